"""What every operation shares: inputs, labels, runtime properties, error mapping.

This is the only module besides the task modules that knows ``ctx``.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable, Mapping

from cloudify import ctx as ctx_proxy
from cloudify.decorators import operation
from cloudify.exceptions import NonRecoverableError, RecoverableError

from docker_plugin import secrets
from docker_plugin.client import DaemonClientConfig, open_client, resolve_config
from docker_plugin.errors import InvalidInputError, PluginError

LABEL_PREFIX = 'cloudify.'
MANAGED_BY = ('cloudify.managed-by', 'docker_plugin')
RETRY_AFTER = 5  # seconds before Cloudify retries transient engine trouble


def docker_operation(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a task the real ctx and map PluginError to Cloudify's errors.

    Transient trouble becomes ``RecoverableError`` (Cloudify retries), everything
    else ``NonRecoverableError``; messages are redacted of remembered secrets and
    carry no chained traceback from the SDK.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.pop('ctx', None) or ctx_proxy
        secrets.forget_all()
        try:
            return func(ctx, *args, **kwargs)
        except PluginError as exc:
            message = secrets.redact(str(exc))
            if exc.recoverable:
                raise RecoverableError(message, retry_after=RETRY_AFTER) from None
            raise NonRecoverableError(message) from None
        finally:
            secrets.forget_all()

    return operation(wrapper, resumable=True)


def resolve_input(ctx: Any, kwargs: Mapping[str, Any], name: str,
                  default: Any = None) -> Any:
    """An operation input if given, else the node property of that name, else default."""
    value = kwargs.get(name)
    if value is None:
        value = ctx.node.properties.get(name)  # ctx, or ctx.source / ctx.target
    if value is None:
        value = {} if default is None else default
    return value


def daemon_config(ctx: Any, kwargs: Mapping[str, Any]) -> DaemonClientConfig:
    """The engine to talk to (``daemon_client`` input or property); its TLS
    material is remembered as secret at once."""
    config = resolve_config(resolve_input(ctx, kwargs, 'daemon_client'))
    secrets.remember(config.client_key, config.client_cert, config.ca_cert)
    return config


def engine(ctx: Any, kwargs: Mapping[str, Any], config: DaemonClientConfig | None = None):
    """A client of the operation's engine, for a ``with`` block."""
    config = config or daemon_config(ctx, kwargs)
    ctx.logger.debug('Docker engine: %s', config.describe())
    return open_client(config)


def resource_labels(ctx: Any) -> dict[str, str]:
    """Labels put on everything the plugin creates, for exact look-ups and clean-up."""
    return {
        'cloudify.deployment': str(ctx.deployment.id or ''),
        'cloudify.blueprint': str(ctx.blueprint.id or ''),
        'cloudify.node': str(ctx.node.id or ''),
        'cloudify.node-instance': str(ctx.instance.id or ''),
        MANAGED_BY[0]: MANAGED_BY[1],
    }


def persist(ctx: Any, **values: Any) -> None:
    """Write runtime properties now (not only when the operation ends)."""
    for key, value in values.items():
        ctx.instance.runtime_properties[key] = value
    ctx.instance.update()


def drop(ctx: Any, *keys: str) -> None:
    """Remove runtime properties now."""
    props = ctx.instance.runtime_properties
    for key in keys:
        if key in props:
            del props[key]
    ctx.instance.update()


def blueprint_path(ctx: Any, path: str, field: str) -> str:
    """An absolute path for a file or directory given relative to the blueprint.

    Absolute paths are returned as they are. Relative ones are looked up among
    the blueprint's resources: in a local run that is the blueprint's
    directory; on a manager the directory is downloaded.
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


def log_lines(ctx: Any, header: str, lines: list[str]) -> None:
    ctx.logger.info('%s\n  %s', header, '\n  '.join(lines))


ADOPTION_FLAGS = ('use_external_resource', 'create_if_missing', 'use_if_exists',
                  'delete_adopted')


def adoption_flags(ctx: Any, kwargs: Mapping[str, Any]) -> dict[str, bool]:
    """The existing-resource flags, from inputs or properties, checked to be booleans."""
    flags = {}
    for name in ADOPTION_FLAGS:
        value = resolve_input(ctx, kwargs, name, default=False)
        if not isinstance(value, bool):
            raise InvalidInputError(name, f'expected true or false, got {value!r}')
        flags[name] = value
    return flags


def instance_suffix(ctx: Any) -> str:
    """The part of the instance id after the node name (``web_x1y2z3`` -> ``x1y2z3``)."""
    instance_id = str(ctx.instance.id)
    prefix = f'{ctx.node.id}_'
    return instance_id[len(prefix):] if instance_id.startswith(prefix) else instance_id


def instance_name(ctx: Any, base: str | None) -> str | None:
    """A Docker object name for this instance.

    One instance gets ``base`` as given; when the node has several instances
    each gets ``base-<instance suffix>``, so names never collide.
    """
    if not base:
        return None
    if (getattr(ctx.node, 'number_of_instances', 1) or 1) > 1:
        return f'{base}-{instance_suffix(ctx)}'
    return base


def is_mine(labels: Mapping[str, str] | None, ctx: Any) -> bool:
    """Whether an object's labels say this very node instance made it."""
    labels = labels or {}
    return (labels.get('cloudify.deployment') == str(ctx.deployment.id)
            and labels.get('cloudify.node-instance') == str(ctx.instance.id))


def related(ctx: Any, type_name: str) -> list[tuple[Any, dict[str, Any]]]:
    """This instance's relationships of ``type_name`` (or derived), with their properties.

    cloudify-common exposes a relationship's type hierarchy but not the
    properties set on it in the blueprint; both come from the node's plan
    entry (the same place cloudify-common itself reads the hierarchy from).
    """
    out = []
    plan = _plan_relationships(ctx)
    for rel in ctx.instance.relationships:
        entry = next((r for r in plan if r.get('type') == rel.type
                      and r.get('target_id') == rel.target.node.id), None)
        hierarchy = (entry or {}).get('type_hierarchy') or [rel.type]
        if type_name in hierarchy:
            out.append((rel, _evaluated(ctx, dict((entry or {}).get('properties') or {}))))
    return out


def _evaluated(ctx: Any, properties: dict[str, Any]) -> dict[str, Any]:
    """Relationship properties with intrinsic functions (get_input, ...) resolved.

    Unlike node properties, these reach the plan unevaluated; the endpoint
    that evaluates operation inputs (locally and on a manager) resolves them.
    """
    if not any(isinstance(v, (dict, list)) for v in properties.values()):
        return properties
    endpoint = getattr(ctx, '_endpoint', None)
    if endpoint is None or not hasattr(endpoint, 'evaluate_functions'):
        return properties
    return dict(endpoint.evaluate_functions(payload=properties))


def _plan_relationships(ctx: Any) -> list[dict[str, Any]]:
    node = ctx.node
    getter = getattr(node, '_get_node_if_needed', None)
    if getter is None:
        return []
    getter()
    plan_node = getattr(node, '_node', None)
    rels = getattr(plan_node, 'relationships', None)
    if rels is None and isinstance(plan_node, Mapping):
        rels = plan_node.get('relationships')
    return list(rels or [])
