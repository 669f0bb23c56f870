"""The seed's lifecycle operations: create, configure, run, stop, delete.

``plugin.yaml`` maps ``docker.docker_plugin.tasks.<name>``. Each operation
reads its input dicts (falling back to the node's properties of the same name,
which is how the typed ``cloudify.nodes.docker.Container`` feeds them),
validates them against the option tables before touching the engine, calls
resource code, and records what it made in runtime properties at once.
"""

from __future__ import annotations

from typing import Any

from docker_plugin import container_spec, drift, image_ops, results, waits
from docker_plugin.action_tasks import wait_ready
from docker_plugin.adoption import Action, decide
from docker_plugin.cloudify_ops import (
    adoption_flags,
    daemon_config,
    docker_operation,
    drop,
    engine,
    is_mine,
    log_lines,
    persist,
    related,
    resolve_input,
    resource_labels,
)
from docker_plugin.errors import ConflictError, InvalidInputError, NotFoundError
from docker_plugin.options.container import REMOVE_KEYS, STOP_KEYS
from docker_plugin.resources import actions, containers, images, networks

CONTAINER_PROPS = ('container_id', 'container_name', 'state', 'exit_code', 'ip', 'networks',
                   'ports', 'host_options_applied', 'replaced_container_id', 'container_adopted')
IMAGE_PROPS = ('image_id', 'image', 'image_source', 'image_created', 'image_digest')


def _plain_dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(field, f'expected a dictionary, got {type(value).__name__}')
    return value


# --------------------------------------------------------------------------- create
USES_IMAGE = 'cloudify.relationships.docker.uses_image'


@docker_operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Import, build or pull the image (``image_import`` / ``image_build`` /
    ``image_pull`` / ``container_config.image``), or take it from a related
    ``cloudify.nodes.docker.Image`` node."""
    shared = related(ctx, USES_IMAGE)
    if shared and not image_ops.has_source(ctx, kwargs):
        target = shared[0][0].target
        image = target.instance.runtime_properties.get('image')
        if not image:
            raise InvalidInputError(f'relationship to {target.node.id}',
                                    'the image node has no image: is it a '
                                    'cloudify.nodes.docker.Image?')
        persist(ctx, image=image, image_id=target.instance.runtime_properties.get('image_id'),
                image_source=f'node {target.node.id}', image_created=False)
        ctx.logger.info('Using image %s of node %s', image, target.node.id)
        return
    kind, options = image_ops.image_request(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        image_ops.ensure_image(ctx, client.api, kind, options)


# ------------------------------------------------------------------------ configure
@docker_operation
def configure(ctx: Any, **kwargs: Any) -> None:
    """Create (or adopt) the container, joined to its networks, mounting its volumes."""
    spec = container_spec.build(ctx, kwargs)
    flags = adoption_flags(ctx, kwargs)
    if flags['use_external_resource'] and not spec.create.get('name'):
        raise InvalidInputError('container_config.name',
                                'required with use_external_resource: the container to use')
    props = ctx.instance.runtime_properties
    image = spec.image or props.get('image') or props.get('image_id')
    if not image and not flags['use_external_resource']:
        raise InvalidInputError('container_config.image',
                                'no image: create made none and container_config names none')
    labels = resource_labels(ctx)
    with engine(ctx, kwargs) as client:
        api = client.api
        container_id = props.get('container_id')
        if not (container_id and containers.inspect(api, container_id)):
            container_id, adopted = _create_or_adopt(ctx, api, spec, image, labels, flags)
            persist(ctx, container_id=container_id, container_adopted=adopted,
                    host_options_applied=bool(spec.host))
        else:
            ctx.logger.info('Container %s already exists', container_id)
        for network, endpoint in spec.networks[1:]:
            networks.connect(api, container_id, network, endpoint)
    # Its name is known; state, addresses and ports are recorded by start.
    persist(ctx, container_name=spec.name)
    ctx.logger.info('Container %s ready to start (%s)', spec.name, container_id)


def _create_or_adopt(ctx: Any, api: Any, spec: container_spec.ContainerSpec, image: str,
                     labels: dict[str, str], flags: dict[str, bool]) -> tuple[str, bool]:
    """Find the container this instance should use, or create it: (id, adopted?)."""
    existing = containers.inspect(api, spec.name)
    mine = existing is not None and is_mine(existing['Config'].get('Labels'), ctx)
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], existing is not None, mine)
    if decision.action is None:
        raise InvalidInputError('container_config.name',
                                f'a container named {spec.name} {decision.problem}')
    if decision.action is not Action.CREATE:
        ctx.logger.info('%s container %s', 'Adopting existing' if decision.action is Action.ADOPT
                        else 'Using the earlier made', existing['Id'])
        return existing['Id'], decision.action is Action.ADOPT
    if not image:
        raise InvalidInputError('container_config.image', 'needed to create the container')
    create = dict(spec.create)
    host = dict(spec.host)
    container_spec.check_engine_support(api, host)
    if spec.networks and 'network_mode' not in host:
        host['network_mode'] = spec.networks[0][0]
        create['networking_config'] = container_spec.networking_config(api, spec.networks)
    # create already made sure of the image it recorded; check only another one.
    if spec.image and spec.image != ctx.instance.runtime_properties.get('image') and \
            images.inspect_image(api, image) is None:
        image_ops.pull(api, {'repository': image}, ctx.logger.info)
    ctx.logger.info('Creating container %s from %s (options: %s)', spec.name, image,
                    ', '.join(sorted(spec.create) + sorted(spec.host)) or 'none')
    try:
        return containers.create(api, image, create, host, labels, spec.name), False
    except NotFoundError as exc:
        raise InvalidInputError('container_config.image',
                                f'image {image} is not available: {exc}') from None


# ------------------------------------------------------------------------------ run
def _require_container(ctx: Any) -> str:
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        raise InvalidInputError('runtime_properties.container_id',
                                'no container recorded: configure must run first')
    return container_id


@docker_operation
def run(ctx: Any, **kwargs: Any) -> Any:
    """Start the container, log its id, networks, ports and processes, then wait
    until it is ready as ``wait_for`` says (in this worker, or through retries)."""
    start_opts = container_spec.start_options(ctx, kwargs)
    ready = waits.validate(resolve_input(ctx, kwargs, 'wait_for'))
    container_id = _require_container(ctx)
    props = ctx.instance.runtime_properties
    if ready and ready.run_async and props.get('_start_deadline'):
        # A retry of an asynchronous readiness wait: the container is started.
        return _wait_ready(ctx, kwargs, container_id, ready)
    with engine(ctx, kwargs) as client:
        api = client.api
        if props.get('replaced_container_id'):
            containers.remove(api, props['replaced_container_id'], v=True, force=True)
            drop(ctx, 'replaced_container_id')
        gone = ConflictError(f'container {container_id} no longer exists; '
                             'run heal or reinstall this node')
        if start_opts and not props.get('host_options_applied'):
            info = containers.inspect(api, container_id)
            if info is None:
                raise gone
            if containers.never_started(info):
                ctx.logger.info('Applying container_start options (%s) by creating the '
                                'never-started container again with them',
                                ', '.join(sorted(start_opts)))

                def remember_new(new_id: str) -> None:
                    persist(ctx, container_id=new_id, replaced_container_id=container_id,
                            host_options_applied=True)

                container_id = containers.recreate_with_host_options(api, info, start_opts,
                                                                     remember_new)
                drop(ctx, 'replaced_container_id')
            else:
                ctx.logger.warning('container_start options ignored: container %s has already '
                                   'run, and the engine applies them only at creation',
                                   container_id)
        try:
            containers.start(api, container_id)
        except NotFoundError:
            raise gone from None
        info = containers.inspect(api, container_id)
        if info is None:
            raise ConflictError(f'container {container_id} disappeared right after start '
                                '(auto_remove with a command that exits?)')
        summary = containers.summarise(info)
        persist(ctx, **summary)
        table = containers.top(api, container_id) if summary['state'] == 'running' else None
        tail = '' if table else containers.logs_tail(api, container_id)
    ctx.logger.info('Container %s (%s) is %s', summary['container_name'], container_id,
                    summary['state'])
    log_lines(ctx, 'Network interfaces:', containers.describe_networks(summary))
    log_lines(ctx, 'Ports:', containers.describe_ports(summary))
    if table:
        ctx.logger.info('Processes:\n%s', containers.format_top(table))
    elif summary['state'] == 'exited':
        level = ctx.logger.info if summary['exit_code'] == 0 else ctx.logger.warning
        level('Container exited with code %s; its last output:\n%s', summary['exit_code'],
              tail or '(none)')
    if ready:
        return _wait_ready(ctx, kwargs, container_id, ready)
    return None


def _wait_ready(ctx: Any, kwargs: dict[str, Any], container_id: str,
                ready: waits.WaitSpec) -> Any:
    return wait_ready(ctx, daemon_config(ctx, kwargs), container_id, ready, 'start')


# ----------------------------------------------------------------------------- stop
def _stop_timeout(ctx: Any, kwargs: dict[str, Any]) -> int | None:
    raw = _plain_dict(resolve_input(ctx, kwargs, 'container_stop'), 'container_stop')
    for key in raw:
        if key not in STOP_KEYS:
            raise InvalidInputError(f'container_stop.{key}', 'unknown option; known: timeout')
    timeout = raw.get('timeout')
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)
                                or timeout < 0):
        raise InvalidInputError('container_stop.timeout', 'expected a whole number of seconds >= 0')
    return timeout


@docker_operation
def stop(ctx: Any, **kwargs: Any) -> None:
    """Stop the container (``container_stop.timeout``); gone or stopped is done."""
    timeout = _stop_timeout(ctx, kwargs)
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        ctx.logger.info('No container recorded; nothing to stop')
        return
    if _keep_adopted(ctx, kwargs, 'stop'):
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        ctx.logger.info('Stopping container %s (timeout %s)', container_id,
                        'engine default' if timeout is None else f'{timeout}s')
        # Stopping what is stopped is a no-op for the engine; a paused one stops too.
        info = containers.inspect(api, container_id) \
            if containers.stop(api, container_id, timeout) else None
        if info is None:
            ctx.logger.info('Container %s is already gone', container_id)
            return
    persist(ctx, state=info['State'].get('Status', ''), exit_code=info['State'].get('ExitCode'))
    ctx.logger.info('Container %s is %s', container_id, info['State'].get('Status'))


def _keep_adopted(ctx: Any, kwargs: dict[str, Any], verb: str) -> bool:
    """True (and logged) when the container was adopted and must be left as found."""
    if not ctx.instance.runtime_properties.get('container_adopted'):
        return False
    if adoption_flags(ctx, kwargs)['delete_adopted']:
        return False
    ctx.logger.info('Not going to %s container %s: it was adopted, not created (set '
                    'delete_adopted to change that)', verb,
                    ctx.instance.runtime_properties.get('container_id'))
    return True


# --------------------------------------------------------------------------- delete
def _remove_options(ctx: Any, kwargs: dict[str, Any]) -> dict[str, bool]:
    raw = _plain_dict(resolve_input(ctx, kwargs, 'container_remove'), 'container_remove')
    out = {}
    for key, value in raw.items():
        if key not in REMOVE_KEYS:
            raise InvalidInputError(f'container_remove.{key}',
                                    f'unknown option; known: {", ".join(REMOVE_KEYS)}')
        if value is not None and not isinstance(value, bool):
            raise InvalidInputError(f'container_remove.{key}', 'expected true or false')
        out[key] = bool(value)
    return out


@docker_operation
def delete(ctx: Any, **kwargs: Any) -> None:
    """Stop if running, remove the container, and the image if ``remove_image``."""
    timeout = _stop_timeout(ctx, kwargs)
    options = _remove_options(ctx, kwargs)
    remove_image = options.pop('remove_image', False)
    props = ctx.instance.runtime_properties
    container_id = props.get('container_id')
    if container_id and _keep_adopted(ctx, kwargs, 'remove'):
        drop(ctx, *CONTAINER_PROPS)
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        image = props.get('image_id')
        if props.get('replaced_container_id'):
            containers.remove(api, props['replaced_container_id'], v=True, force=True)
        info = containers.inspect(api, container_id) if container_id else None
        if info is None:
            ctx.logger.info('Container %s is already gone', container_id or '(none recorded)')
        else:
            image = image or info.get('Image')
            if info['State'].get('Running') or info['State'].get('Paused'):
                ctx.logger.info('Stopping container %s before removing it', container_id)
                containers.stop(api, container_id, timeout)
            containers.remove(api, container_id, **options)
            ctx.logger.info('Removed container %s', container_id)
        drop(ctx, *CONTAINER_PROPS)
        if remove_image and image:
            try:
                removed = images.remove_image(api, image)
            except ConflictError as exc:
                raise ConflictError(f'remove_image: {exc}. Remove the containers using it, '
                                    'or set remove_image to false.') from None
            if removed:
                ctx.logger.info('Removed image %s', image)
            drop(ctx, *IMAGE_PROPS)


# ---------------------------------------------------------------------- check_status
@docker_operation
def check_status(ctx: Any, **kwargs: Any) -> None:
    """Healthy when the container exists and runs (and its healthcheck, if any, passes).

    Cloudify's ``check_status`` and ``heal`` workflows call this; an unhealthy
    instance is reinstalled by ``heal``.
    """
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        raise ConflictError('no container recorded for this instance')
    with engine(ctx, kwargs) as client:
        info = containers.inspect(client.api, container_id)
    if info is None:
        raise ConflictError(f'container {container_id} no longer exists')
    state = info['State']
    health = (state.get('Health') or {}).get('Status')
    if not state.get('Running') or state.get('Paused') or health == 'unhealthy':
        raise ConflictError(f"container {container_id} is {state.get('Status')}"
                            + (f' and {health}' if health else ''))
    ctx.logger.info('Container %s is %s%s', container_id, state.get('Status'),
                    f' and {health}' if health else '')


# --------------------------------------------------------------- check_drift / update
def _drift(ctx: Any, kwargs: dict[str, Any], api: Any) -> list[drift.Difference]:
    spec = container_spec.build(ctx, kwargs)
    container_id = _require_container(ctx)
    info = containers.inspect(api, container_id)
    if info is None:
        raise ConflictError(f'container {container_id} no longer exists')
    image = spec.image or ctx.instance.runtime_properties.get('image') or ''
    return drift.differences(api, image, spec.create, spec.host, info)


@docker_operation
def check_drift(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the container differs from its declared options (also kept in
    the ``drift`` runtime property); an empty list means none."""
    with engine(ctx, kwargs) as client:
        found = [d.as_dict() for d in _drift(ctx, kwargs, client.api)]
    persist(ctx, drift=results.bounded(found))
    if found:
        ctx.logger.warning('Drift: %s', '; '.join(
            f"{d['option']} ({d['key']}): declared {d['desired']!r}, found {d['actual']!r}"
            for d in found))
    else:
        ctx.logger.info('No drift: the container has every declared option')
    return found


@docker_operation
def update(ctx: Any, **kwargs: Any) -> None:
    """Apply drifted options the engine can change in place (resources, restart
    policy); anything else needs a new container and is refused, naming it."""
    with engine(ctx, kwargs) as client:
        api = client.api
        found = _drift(ctx, kwargs, api)
        fixed = sorted({d.option for d in found if not d.updatable})
        if fixed:
            raise ConflictError(f'options {", ".join(fixed)} changed and cannot be applied to '
                                'a running container: reinstall (or heal) this node')
        host = container_spec.build(ctx, kwargs).host
        changes = {d.option: host[d.option] for d in found}
        if changes:
            actions.update(api, _require_container(ctx), changes)
            ctx.logger.info('Updated in place: %s', ', '.join(sorted(changes)))
        remaining = [d.as_dict() for d in _drift(ctx, kwargs, api)]
    persist(ctx, drift=results.bounded(remaining))
