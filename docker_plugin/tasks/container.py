"""The seed's lifecycle operations: create, configure, run, stop, delete.

``plugin.yaml`` maps ``docker.docker_plugin.tasks.<name>``. Each operation
reads its input dicts (falling back to the node's properties of the same
name, which is how the typed ``cloudify.nodes.docker.Container`` feeds them),
validates them against the option tables before touching the engine, calls
resource code, and records what it made in runtime properties at once.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.adoption import Choice, decide
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
)
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import containers, controls, images, logs, networks, reports
from docker_plugin.resources import spec as specs
from docker_plugin.tasks import image_sources, objects
from docker_plugin.tasks.container_state import DISCARDED, record_discarded
from docker_plugin.tasks.context import (
    daemon_config,
    drop,
    engine,
    existing_flags,
    is_mine,
    learn_container_secrets,
    log_lines,
    persist,
    recorded,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.objects import TAGGED, tagged
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.specs import declared_state, gather, shared_image, start_options
from docker_plugin.tasks.waiting import pending, wait_ready, wait_spec

CONTAINER_PROPS = ('container_id', 'container_name', 'state', 'exit_code', 'ip', 'networks',
                   'ports', 'host_options_applied', 'replaced_container_id', 'container_adopted',
                   'secret_env_names', 'drift', DISCARDED, TAGGED)
# A start the engine refuses with these, on a container that never ran, is a
# broken engine-side state (after the engine was killed): create it again.
STALE_MARKERS = ('already exists',)
NO_IMAGE = 'no such image'  # a create refused for want of its image (else: an option)
RUNTIME_FAILURES = ('oci runtime create failed', 'runc create failed')


def refusal(ctx: Any, kwargs: Mapping[str, Any], exc: PluginError,
            what: str) -> InvalidInputError:
    """What the engine refused to create or start, as the option it is about: one of
    ``container_start`` (which wins where both set it) or ``container_config``."""
    given = {}
    for field in ('container_start', 'container_config'):
        raw = resolve_input(ctx, kwargs, field)
        given[field] = {CONTAINER.aliases.get(k, k): v for k, v in raw.items()} \
            if isinstance(raw, Mapping) else {}
    # The runtime failing without a word about why (runc: "can't get final child's PID
    # from pipe", a negative oom_score_adj without the privilege) failed applying the
    # host configuration: with one host option given, that is the one.
    runtime = any(m in (exc.detail or str(exc)).lower() for m in RUNTIME_FAILURES)
    return objects.refused(exc, what, CONTAINER, given, 'container_config',
                           CONTAINER.names('host') if runtime else (),
                           'the runtime gave no reason, and applies the host options')


@operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Import, build or pull the image (``image_import`` / ``image_build`` /
    ``image_pull`` / ``container_config.image``), or take it from a related
    ``cloudify.nodes.docker.Image`` node."""
    shared = shared_image(ctx)
    if shared and not image_sources.has_source(ctx, kwargs):
        node_id, image, image_id = shared
        persist(ctx, image=image, image_id=image_id, image_source=f'node {node_id}',
                image_created=False)
        ctx.logger.info('Using image %s of node %s', image, node_id)
        return
    kind, values = image_sources.request(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        image_sources.obtain(ctx, client.api, kind, values)


@operation
def configure(ctx: Any, **kwargs: Any) -> None:
    """Create (or adopt) the container, joined to its networks, mounting its volumes."""
    spec = gather(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    if flags['use_external_resource'] and not spec.named:
        raise InvalidInputError('container_config.name',
                                'required with use_external_resource: the container to use')
    image = spec.image or props.get('image') or props.get('image_id')
    if not image and not flags['use_external_resource']:
        raise InvalidInputError('container_config.image',
                                'no image: create made none and container_config names none')
    with engine(ctx, kwargs) as client:
        api = client.api
        specs.check_engine_support(spec, api.api_version)
        container_id = props.get('container_id')
        if not (container_id and containers.inspect(api, container_id)):
            container_id, adopted = _create_or_adopt(ctx, kwargs, api, spec, image, flags)
            persist(ctx, container_id=container_id, container_adopted=adopted,
                    host_options_applied=bool(spec.host), secret_env_names=spec.secret_names,
                    **tagged(adopted))
        else:
            ctx.logger.info('Container %s already exists', container_id)
        for network, endpoint in spec.networks[1:]:
            networks.connect(api, container_id, network, endpoint)
    persist(ctx, container_name=spec.name)
    ctx.logger.info('Container %s ready to start (%s)', spec.name, container_id)


def _create_or_adopt(ctx: Any, kwargs: Mapping[str, Any], api: Any, spec: specs.ContainerSpec,
                     image: str | None, flags: dict[str, bool]) -> tuple[str, bool]:
    """Find the container this instance should use, or create it: (id, adopted?)."""
    existing = containers.inspect(api, spec.name)
    mine = existing is not None and is_mine(existing['Config'].get('Labels'), ctx)
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], existing is not None, mine)
    if decision.choice is None:
        raise InvalidInputError('container_config.name',
                                f'a container named {spec.name} {decision.problem}')
    if decision.choice is not Choice.CREATE:
        ctx.logger.info('%s container %s', 'Adopting existing' if decision.choice is Choice.ADOPT
                        else 'Using the earlier made', existing['Id'])
        return existing['Id'], decision.choice is Choice.ADOPT
    if not image:
        raise InvalidInputError('container_config.image', 'needed to create the container')
    # create already made sure of the image it recorded; check only another one.
    if spec.image and spec.image != ctx.instance.runtime_properties.get('image') and \
            images.inspect_image(api, image) is None:
        repository, tag = images.split_reference(image)
        images.pull_as(api, repository, tag, 'missing', ctx.logger.info)
    ctx.logger.info('Creating container %s from %s (options: %s)', spec.name, image,
                    ', '.join(sorted(spec.create) + sorted(spec.host)) or 'none')
    try:
        container_id, warnings = containers.create(api, image, spec, resource_labels(ctx))
    except (NotFoundError, RefusedError) as exc:
        if isinstance(exc, NotFoundError) and NO_IMAGE in (exc.detail or str(exc)).lower():
            raise InvalidInputError('container_config.image',
                                    f'image {image} is not available: {exc}') from None
        raise refusal(ctx, kwargs, exc, 'the engine refused the container') from None
    for warning in warnings:
        ctx.logger.warning('The engine warns about container %s: %s', spec.name, warning)
    drop(ctx, DISCARDED)  # what an earlier container's engine discarded
    record_discarded(ctx, api, spec, container_id, spec.declared(), warnings)
    return container_id, False


@operation
def run(ctx: Any, **kwargs: Any) -> Any:
    """Start the container, log its id, networks, ports and processes, then wait
    until it is ready as ``wait_for`` says (in this worker, or through retries)."""
    start_opts = start_options(ctx, kwargs)
    ready = wait_spec(ctx, kwargs)
    paused = declared_state(ctx, kwargs).get('paused') is True
    container_id = recorded(ctx, 'container_id', 'container', ': configure must run first')
    props = ctx.instance.runtime_properties
    config = daemon_config(ctx, kwargs)
    if ready and ready.run_async and pending(ctx, 'start'):
        # A retry of an asynchronous readiness wait: the container is started.
        return _ready_then_pause(ctx, config, container_id, ready, paused)
    with engine(ctx, kwargs, config) as client:
        api = client.api
        if props.get('replaced_container_id'):
            containers.remove(api, props['replaced_container_id'], v=True, force=True)
            drop(ctx, 'replaced_container_id')
        if start_opts and not props.get('host_options_applied'):
            container_id = _apply_start_options(ctx, kwargs, api, container_id, start_opts)
        container_id = _start(ctx, kwargs, api, container_id)
        info = containers.inspect(api, container_id)
        if info is None:
            raise StateError(f'container {container_id} disappeared right after start '
                             '(auto_remove with a command that exits?)')
        learn_container_secrets(ctx, info)
        summary = reports.summarise(info)
        persist(ctx, **summary)
        table = containers.top(api, container_id) if summary['state'] == 'running' else None
        tail = '' if table else logs.last_lines(api, container_id)
    ctx.logger.info('Container %s (%s) is %s', summary['container_name'], container_id,
                    summary['state'])
    log_lines(ctx, 'Network interfaces:', reports.describe_networks(summary))
    log_lines(ctx, 'Ports:', reports.describe_ports(summary))
    if table:
        ctx.logger.info('Processes:\n%s', reports.format_top(table))
    elif summary['state'] == 'exited':
        level = ctx.logger.info if summary['exit_code'] == 0 else ctx.logger.warning
        level('Container exited with code %s; its last output:\n%s', summary['exit_code'],
              tail or '(none)')
    return _ready_then_pause(ctx, config, container_id, ready, paused)


def _ready_then_pause(ctx: Any, config: Any, container_id: str, ready: Any,
                      paused: bool) -> Any:
    """Wait as ``wait_for`` says, then pause a container declared ``paused`` (not while
    an asynchronous wait is still under way: Cloudify retries it first)."""
    waited = wait_ready(ctx, config, container_id, ready, 'start') if ready else None
    if not paused or pending(ctx, 'start'):
        return waited
    with engine(ctx, {}, config) as client:
        info = containers.require(client.api, container_id)
        if not info['State'].get('Running'):
            raise InvalidInputError('container_config.paused', f'only a running container '
                                    f'pauses; container {container_id[:12]} is '
                                    f'{reports.state_line(info)}')
        if not info['State'].get('Paused'):
            controls.pause(client.api, container_id)
        persist(ctx, **reports.summarise(containers.require(client.api, container_id)))
    ctx.logger.info('Container %s paused, as declared', container_id[:12])
    return waited


def _apply_start_options(ctx: Any, kwargs: Mapping[str, Any], api: Any, container_id: str,
                         start_opts: dict) -> str:
    info = containers.require(api, container_id)
    if not containers.never_started(info):
        ctx.logger.warning('container_start options ignored: container %s has already run, '
                           'and the engine applies them only at creation', container_id)
        return container_id
    ctx.logger.info('Applying container_start options (%s) by creating the never-started '
                    'container again with them', ', '.join(sorted(start_opts)))
    try:
        return _recreate(ctx, api, info, start_opts)
    except (NotFoundError, RefusedError) as exc:
        raise refusal(ctx, kwargs, exc, 'the engine refused the container_start options') \
            from None


def _recreate(ctx: Any, api: Any, info: dict, host_options: dict) -> str:
    def remember_new(new_id: str) -> None:
        persist(ctx, container_id=new_id, replaced_container_id=info['Id'],
                host_options_applied=True)

    new_id = containers.recreate(api, info, host_options, remember_new)
    drop(ctx, 'replaced_container_id')
    return new_id


def _start(ctx: Any, kwargs: Mapping[str, Any], api: Any, container_id: str) -> str:
    """Start; a never-run container the engine holds broken is created again, once."""
    try:
        containers.start(api, container_id)
        return container_id
    except (NotFoundError, RefusedError) as exc:
        refused = exc
    info = containers.inspect(api, container_id)
    if info is None:
        raise StateError(f'container {container_id} no longer exists; run heal or reinstall '
                         'this node')
    stale = any(m in str(refused).lower() for m in STALE_MARKERS)
    if not (stale and info is not None and containers.never_started(info)):
        raise refusal(ctx, kwargs, refused, 'the engine could not start the container')
    ctx.logger.warning('The engine holds container %s in a broken state (%s); it never ran, '
                       'so it is created again', container_id, refused)
    container_id = _recreate(ctx, api, info, {})
    containers.start(api, container_id)
    return container_id
