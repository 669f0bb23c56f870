"""The seed's lifecycle operations: create, configure, run, stop, delete.

``plugin.yaml`` maps ``docker.docker_plugin.tasks.<name>``. Each operation
reads its input dicts (falling back to the node's properties of the same name,
which is how the typed ``cloudify.nodes.docker.Container`` feeds them),
validates them against the option tables before touching the engine, calls
resource code, and records what it made in runtime properties at once.
"""

from __future__ import annotations

from typing import Any

from docker_plugin import secrets
from docker_plugin.client import open_client, resolve_config
from docker_plugin.cloudify_ops import (
    blueprint_path,
    docker_operation,
    drop,
    log_lines,
    persist,
    resolve_input,
    resource_labels,
)
from docker_plugin.errors import ConflictError, InvalidInputError, NotFoundError
from docker_plugin.options.container import CONTAINER, REMOVE_KEYS, START_SECTIONS, STOP_KEYS
from docker_plugin.resources import containers, images

CONTAINER_PROPS = ('container_id', 'container_name', 'state', 'exit_code', 'ip', 'networks',
                   'ports', 'host_options_applied', 'replaced_container_id')
IMAGE_PROPS = ('image_id', 'image', 'image_source', 'image_created')


def _client(ctx: Any, kwargs: dict[str, Any]):
    config = resolve_config(resolve_input(ctx, kwargs, 'daemon_client'))
    secrets.remember(config.client_key, config.client_cert, config.ca_cert)
    ctx.logger.debug('Docker engine: %s', config.describe())
    return open_client(config)


def _plain_dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(field, f'expected a dictionary, got {type(value).__name__}')
    return value


# --------------------------------------------------------------------------- create
def _image_request(ctx: Any, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Which image source the inputs name, validated: (kind, options)."""
    sources = {}
    for kind in ('image_import', 'image_build', 'image_pull'):
        value = resolve_input(ctx, kwargs, kind)
        if _plain_dict(value, kind):
            sources[kind] = value
    if len(sources) > 1:
        raise InvalidInputError(' and '.join(sorted(sources)),
                                'give exactly one image source, not several')
    if not sources:
        config = _plain_dict(resolve_input(ctx, kwargs, 'container_config'), 'container_config')
        if isinstance(config.get('image'), str) and config['image']:
            repo, tag = images.split_reference(config['image'])
            return 'image_pull', {'repository': repo, 'tag': tag, 'policy': 'missing'}
        raise InvalidInputError(
            'image_import/image_build', 'give exactly one image source: image_import.src (an '
            'http(s) URL or a tarball path), image_build.path (a context directory), '
            'image_pull.repository, or container_config.image')
    kind, raw = next(iter(sources.items()))
    if kind == 'image_build':
        return kind, images.validate_build(raw)
    if kind == 'image_import':
        unknown = set(raw) - {'src', 'repository', 'tag', 'changes'}
        if unknown:
            raise InvalidInputError(f'image_import.{sorted(unknown)[0]}', 'unknown option')
        if not isinstance(raw.get('src'), str) or not raw['src']:
            raise InvalidInputError('image_import.src',
                                    'required: an http(s) URL or a tarball path')
        for key in ('repository', 'tag'):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise InvalidInputError(f'image_import.{key}', 'expected a string')
        if raw.get('changes') is not None and not isinstance(raw['changes'], list):
            raise InvalidInputError('image_import.changes', 'expected a list of instructions')
        return kind, dict(raw)
    unknown = set(raw) - {'repository', 'tag', 'platform', 'policy', 'auth_config'}
    if unknown:
        raise InvalidInputError(f'image_pull.{sorted(unknown)[0]}', 'unknown option')
    if not isinstance(raw.get('repository'), str) or not raw['repository']:
        raise InvalidInputError('image_pull.repository', 'required: the image to pull')
    policy = raw.get('policy', 'missing')
    if policy not in ('missing', 'always', 'never'):
        raise InvalidInputError('image_pull.policy', 'must be missing, always or never')
    return kind, dict(raw)


@docker_operation
def create(ctx: Any, **kwargs: Any) -> None:
    """Import, build or pull the image (``image_import`` / ``image_build`` / ``image_pull``)."""
    kind, options = _image_request(ctx, kwargs)
    props = ctx.instance.runtime_properties
    log = ctx.logger.info
    with _client(ctx, kwargs) as client:
        api = client.api
        if props.get('image_id') and images.inspect_image(api, props['image_id']):
            ctx.logger.info('Image %s already present (%s); nothing to do',
                            props.get('image'), props['image_id'])
            return
        if kind == 'image_import':
            src = options['src']
            if not images.is_url(src):
                src = blueprint_path(ctx, src, 'image_import.src')
            result = images.import_image(api, src, options.get('repository'),
                                         options.get('tag'), options.get('changes'), log)
            created = True
        elif kind == 'image_build':
            options['path'] = blueprint_path(ctx, options['path'], 'image_build.path')
            result = images.build_image(api, options, resource_labels(ctx), log)
            created = True
        else:
            result, created = _pull(api, options, log)
    persist(ctx, image_id=result.id, image=result.reference, image_source=result.source,
            image_created=created)
    ctx.logger.info('Image %s ready: %s (%s)', result.reference, result.id, result.source)


def _pull(api: Any, options: dict[str, Any], log: Any) -> tuple[images.ImageResult, bool]:
    repository, tag = options['repository'], options.get('tag')
    if tag is None:
        repository, tag = images.split_reference(repository)
    reference = f'{repository}@{tag}' if tag and tag.startswith('sha256:') else \
        f'{repository}:{tag or "latest"}'
    policy = options.get('policy', 'missing')
    if policy != 'always':
        info = images.inspect_image(api, reference)
        if info is not None:
            return images.ImageResult(info['Id'], reference, 'existing'), False
        if policy == 'never':
            raise InvalidInputError('image_pull.policy',
                                    f'image {reference} is not present and policy is never')
    auth = options.get('auth_config')
    if auth:
        secrets.remember(*[v for v in auth.values() if isinstance(v, str)])
    try:
        return images.pull_image(api, repository, tag, log, auth, options.get('platform')), True
    except NotFoundError as exc:
        raise InvalidInputError('image', f'{reference} cannot be pulled: {exc}') from None


# ------------------------------------------------------------------------ configure
def _container_spec(ctx: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validated (create options, host options) from container_config (+ container_start)."""
    config = CONTAINER.validate(resolve_input(ctx, kwargs, 'container_config'), 'container_config')
    start = CONTAINER.validate(resolve_input(ctx, kwargs, 'container_start'), 'container_start',
                               sections=START_SECTIONS)
    create_opts = config.get('create', {})
    host_opts = {**config.get('host', {}), **start.get('host', {})}
    env_var = ctx.instance.runtime_properties.get('docker_env_var')
    if env_var:
        from docker_plugin.options.container import normalise_environment
        extra = normalise_environment(_env_source(env_var), 'runtime_properties.docker_env_var')
        create_opts['environment'] = {**create_opts.get('environment', {}), **extra}
    return create_opts, host_opts


def _env_source(value: Any) -> Any:
    if not isinstance(value, (dict, list)):
        raise InvalidInputError('runtime_properties.docker_env_var',
                                'expected a dictionary of NAME: value')
    return value


@docker_operation
def configure(ctx: Any, **kwargs: Any) -> None:
    """Create the container from ``container_config`` (and ``docker_env_var``)."""
    create_opts, host_opts = _container_spec(ctx, kwargs)
    props = ctx.instance.runtime_properties
    image = create_opts.get('image') or props.get('image') or props.get('image_id')
    if not image:
        raise InvalidInputError('container_config.image',
                                'no image: create made none and container_config names none')
    name = create_opts.get('name')
    labels = resource_labels(ctx)
    with _client(ctx, kwargs) as client:
        api = client.api
        if props.get('container_id') and containers.inspect(api, props['container_id']):
            ctx.logger.info('Container %s already exists; nothing to do', props['container_id'])
            return
        mine = containers.find_by_labels(api, {k: labels[k] for k in
                                               ('cloudify.deployment', 'cloudify.node-instance')})
        if mine:
            container_id = mine[0]['Id']
            ctx.logger.info('Found container %s made for this instance earlier; using it',
                            container_id)
        else:
            if create_opts.get('image') and images.inspect_image(api, image) is None:
                _pull(api, {'repository': image}, ctx.logger.info)
            ctx.logger.info('Creating container%s from %s (options: %s)',
                            f' {name}' if name else '', image,
                            ', '.join(sorted(create_opts) + sorted(host_opts)) or 'none')
            try:
                container_id = containers.create(api, image, create_opts, host_opts, labels, name)
            except NotFoundError as exc:
                raise InvalidInputError('container_config.image',
                                        f'image {image} is not available: {exc}') from None
            except ConflictError as exc:
                if name and 'already in use' in str(exc):
                    raise InvalidInputError(
                        'container_config.name', f'a container named {name} already exists and '
                        'does not belong to this node instance') from None
                raise
        persist(ctx, container_id=container_id, host_options_applied=bool(host_opts))
        info = containers.inspect(api, container_id)
    summary = containers.summarise(info) if info else {'container_name': name}
    persist(ctx, **summary)
    ctx.logger.info('Container %s created (%s)', summary['container_name'], container_id)


# ------------------------------------------------------------------------------ run
def _require_container(ctx: Any) -> str:
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        raise InvalidInputError('runtime_properties.container_id',
                                'no container recorded: configure must run first')
    return container_id


@docker_operation
def run(ctx: Any, **kwargs: Any) -> None:
    """Start the container, then log its id, networks, ports and processes."""
    start_opts = CONTAINER.validate(resolve_input(ctx, kwargs, 'container_start'),
                                    'container_start', sections=START_SECTIONS).get('host', {})
    container_id = _require_container(ctx)
    props = ctx.instance.runtime_properties
    with _client(ctx, kwargs) as client:
        api = client.api
        if props.get('replaced_container_id'):
            containers.remove(api, props['replaced_container_id'], v=True, force=True)
            drop(ctx, 'replaced_container_id')
        info = containers.inspect(api, container_id)
        if info is None:
            raise ConflictError(f'container {container_id} no longer exists; '
                                'run heal or reinstall this node')
        if start_opts and not props.get('host_options_applied'):
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
        containers.start(api, container_id)
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
    with _client(ctx, kwargs) as client:
        api = client.api
        info = containers.inspect(api, container_id)
        if info is None:
            ctx.logger.info('Container %s is already gone', container_id)
            return
        if info['State'].get('Running') or info['State'].get('Paused'):
            ctx.logger.info('Stopping container %s (timeout %s)', container_id,
                            'engine default' if timeout is None else f'{timeout}s')
            containers.stop(api, container_id, timeout)
            info = containers.inspect(api, container_id) or info
    persist(ctx, state=info['State'].get('Status', ''), exit_code=info['State'].get('ExitCode'))
    ctx.logger.info('Container %s is %s', container_id, info['State'].get('Status'))


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
    with _client(ctx, kwargs) as client:
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
            if images.remove_image(api, image):
                ctx.logger.info('Removed image %s', image)
            drop(ctx, *IMAGE_PROPS)
