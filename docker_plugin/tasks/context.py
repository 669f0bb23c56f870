"""What every operation shares: inputs, runtime properties, labels, names, the engine."""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from docker_plugin import secrets
from docker_plugin.client import DaemonClientConfig, open_client, resolve_config
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import OptionTable
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.existing import EXISTING
from docker_plugin.tasks.relationships import related

LABEL_PREFIX = 'cloudify.'
MANAGED_BY = ('cloudify.managed-by', 'docker_plugin')


def resolve_input(ctx: Any, kwargs: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """An operation input if given, else the node property of that name, else default."""
    value = kwargs.get(name)
    if value is None:
        value = ctx.node.properties.get(name)
    if value is None:
        value = {} if default is None else default
    return value


def parse(ctx: Any, kwargs: Mapping[str, Any], name: str, table: OptionTable) -> dict[str, Any]:
    """The input (or property) ``name``, validated by ``table``, defaults filled in."""
    return table.parse(resolve_input(ctx, kwargs, name), name)


def persist(ctx: Any, **values: Any) -> None:
    """Write runtime properties now (not only when the operation ends), redacted."""
    props = ctx.instance.runtime_properties
    for key, value in values.items():
        props[key] = secrets.redact_all(value)
    ctx.instance.update()


def recorded(ctx: Any, key: str, what: str, hint: str = '') -> str:
    """A runtime property an operation cannot do without (raises StateError)."""
    value = ctx.instance.runtime_properties.get(key)
    if not value:
        from docker_plugin.errors import StateError
        raise StateError(f'no {what} recorded for this instance{hint}')
    return value


def drop(ctx: Any, *keys: str) -> None:
    """Remove runtime properties now."""
    props = ctx.instance.runtime_properties
    for key in keys:
        if key in props:
            del props[key]
    ctx.instance.update()


def resource_labels(ctx: Any) -> dict[str, str]:
    """Labels put on everything the plugin creates, for exact look-ups and clean-up.

    Where the manager gives the deployment ``resource_tags``, each becomes a
    label too (the plugin's own labels win on a clash).
    """
    labels = {f'{k}': str(v) for k, v in _resource_tags(ctx).items()}
    labels.update(instance_labels(ctx))
    labels['cloudify.blueprint'] = str(ctx.blueprint.id or '')
    labels['cloudify.node'] = str(ctx.node.id or '')
    labels[MANAGED_BY[0]] = MANAGED_BY[1]
    return labels


def instance_labels(ctx: Any) -> dict[str, str]:
    """The labels that name exactly this node instance's objects."""
    return {'cloudify.deployment': str(ctx.deployment.id or ''),
            'cloudify.node-instance': str(ctx.instance.id or '')}


def _resource_tags(ctx: Any) -> Mapping[str, Any]:
    try:
        tags = ctx.deployment.resource_tags
    except Exception:  # noqa: BLE001 - local runs and older managers have none
        return {}
    return tags if isinstance(tags, Mapping) else {}


def is_mine(labels: Mapping[str, str] | None, ctx: Any) -> bool:
    """Whether an object's labels say this very node instance made it."""
    labels = labels or {}
    return all(labels.get(k) == v for k, v in instance_labels(ctx).items())


def instance_suffix(ctx: Any) -> str:
    """The part of the instance id after the node name (``web_x1y2z3`` -> ``x1y2z3``)."""
    instance_id = str(ctx.instance.id)
    prefix = f'{ctx.node.id}_'
    return instance_id[len(prefix):] if instance_id.startswith(prefix) else instance_id


def instance_name(ctx: Any, base: str | None) -> str | None:
    """A Docker object name for this instance: ``base`` when the node has one
    instance, else ``base-<instance suffix>``, so names never collide."""
    if not base:
        return None
    if (getattr(ctx.node, 'number_of_instances', 1) or 1) > 1:
        return f'{base}-{instance_suffix(ctx)}'
    return base


def default_name(ctx: Any, separator: str = '.') -> str:
    """``<deployment><sep><node instance id>``: unique, and found again without listing."""
    name = re.sub(r'[^a-zA-Z0-9_.-]', '-', f'{ctx.deployment.id}{separator}{ctx.instance.id}')
    return name if name[:1].isalnum() else f'c{name}'


def object_name(ctx: Any, kwargs: Mapping[str, Any]) -> str:
    """A network's or volume's name: ``name`` (per instance when there are several),
    else ``<deployment>-<instance id>``."""
    base = resolve_input(ctx, kwargs, 'name', default='')
    if not isinstance(base, str) or (base and not re.fullmatch(r'[a-zA-Z0-9][a-zA-Z0-9_.-]*',
                                                              base)):
        raise InvalidInputError('name', 'expected a name like my-net ([a-zA-Z0-9][a-zA-Z0-9_.-]*)')
    return instance_name(ctx, base) or default_name(ctx, '-')


def existing_flags(ctx: Any, kwargs: Mapping[str, Any]) -> dict[str, bool]:
    """``use_external_resource`` and friends, from inputs or properties, validated."""
    out = {}
    for option in EXISTING:
        value = kwargs.get(option.name)
        if value is None:
            value = ctx.node.properties.get(option.name)
        out[option.name] = option.default if value is None else option.check(value, option.name)
    return out


IN_SWARM = 'cloudify.relationships.docker.in_swarm'


def daemon_config(ctx: Any, kwargs: Mapping[str, Any]) -> DaemonClientConfig:
    """The engine to talk to: the ``daemon_client`` input or property; when both
    are empty and the node is ``in_swarm``, the Swarm node's manager."""
    raw = resolve_input(ctx, kwargs, 'daemon_client')
    if not raw and getattr(ctx.instance, 'relationships', None):
        for rel, _ in related(ctx, IN_SWARM):
            raw = rel.target.node.properties.get('daemon_client') or {}
            secrets.remember(*DAEMON_CLIENT.secret_values(raw))  # not this node's to learn
            break
    return resolve_config(raw)


def engine(ctx: Any, kwargs: Mapping[str, Any], config: DaemonClientConfig | None = None):
    """A client of the operation's engine, for a ``with`` block."""
    config = config or daemon_config(ctx, kwargs)
    ctx.logger.debug('Docker engine: %s', config.describe())
    if config.warning:
        ctx.logger.warning(config.warning)
    return open_client(config)


def is_local(config: DaemonClientConfig) -> bool:
    """The engine runs on this host (its PIDs and container addresses are ours to reach)."""
    return config.base_url.startswith('unix://')


def blueprint_path(ctx: Any, path: str, field: str) -> str:
    """An absolute path for a file or directory given relative to the blueprint.

    Absolute paths are returned as they are. Relative ones are looked up among
    the blueprint's resources: in a local run that is the blueprint's
    directory; on a manager the file or directory is downloaded.
    """
    if os.path.isabs(path):
        return path
    storage = getattr(getattr(ctx, '_endpoint', None), 'storage', None)
    if storage is not None and hasattr(storage, 'get_blueprint'):
        candidate = os.path.join(storage.get_blueprint()['resources'], path)
        if os.path.exists(candidate):
            return candidate
    try:
        if os.path.splitext(path)[1]:
            return ctx.download_resource(path)
        return ctx.download_directory(path)
    except Exception as exc:  # noqa: BLE001 - ctx raises many kinds for a missing resource
        raise InvalidInputError(field, f'{path!r} not found among the blueprint resources '
                                       f'({type(exc).__name__})') from None


def read_file(ctx: Any, path: str, field: str, limit: int) -> bytes:
    """The bytes of a regular file given relative to the blueprint, at most ``limit``
    (a device or a file that grows is never read without end).

    Raises:
        InvalidInputError: naming ``field``: not a regular file, unreadable, too large.
    """
    found = blueprint_path(ctx, path, field)
    if not os.path.isfile(found):
        raise InvalidInputError(field, f'{path!r} is not a readable file')
    try:
        with open(found, 'rb') as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InvalidInputError(field, f'{path!r} cannot be read: {exc.strerror}') from None
    if len(data) > limit:
        raise InvalidInputError(field, f'{path!r} is larger than {limit} bytes')
    return data


def learn_container_secrets(ctx: Any, info: Mapping[str, Any]) -> None:
    """Remember the values of the container's secret environment variables.

    Their names are kept on the instance (``secret_env_names``); an operation
    that was not given ``secret_environment`` (a seed-style ``run``, an action)
    reads the values from the container before it reports anything.
    """
    names = set(ctx.instance.runtime_properties.get('secret_env_names') or [])
    if not names:
        return
    for entry in (info.get('Config') or {}).get('Env') or []:
        name, _, value = str(entry).partition('=')
        if name in names:
            secrets.remember(value)


def log_lines(ctx: Any, header: str, lines: list[str]) -> None:
    ctx.logger.info('%s\n  %s', header, '\n  '.join(lines))
