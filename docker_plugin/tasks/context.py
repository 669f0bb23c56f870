"""What every operation shares: inputs, runtime properties, labels, names, the engine."""

from __future__ import annotations

import contextlib
import re
from typing import Any, Iterator, Mapping

from docker_plugin import fingerprints, kinds, records, results, secrets
from docker_plugin.client import DaemonClientConfig, open_client
from docker_plugin.errors import InvalidInputError, UnreachableError
from docker_plugin.options.base import OptionTable
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.existing import EXISTING
from docker_plugin.tasks.confine import client_config
from docker_plugin.tasks.ctx import Ctx, Side
from docker_plugin.tasks.kept_nodes import node_of
from docker_plugin.tasks.relationships import related

CONTENT_KEY = kinds.CONTENT_KEY
MANAGED_BY = ('cloudify.managed-by', 'docker_plugin')
DEPLOYMENT_LABEL = 'cloudify.deployment'
NODE_LABEL = 'cloudify.node'
INSTANCE_LABEL = 'cloudify.node-instance'
# Runtime properties every kind shares: set once an operation of the instance reached its
# engine (an instance that never did made nothing there); the first failure to reach it
# while an operation is retried ({'operation', 'execution', 'since', 'tries'}).
ENGINE_REACHED = '_engine_reached'
UNREACHABLE = '_unreachable'


def resolve_input(ctx: Side, kwargs: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """An operation input if given, else the node property of that name, else default."""
    value = kwargs.get(name)
    if value is None:
        value = ctx.node.properties.get(name)
    if value is None:
        value = {} if default is None else default
    return value


def parse(ctx: Ctx, kwargs: Mapping[str, Any], name: str, table: OptionTable) -> dict[str, Any]:
    """The input (or property) ``name``, validated by ``table``, defaults filled in."""
    return table.parse(resolve_input(ctx, kwargs, name), name)


def persist(ctx: Ctx, **values: Any) -> None:
    """Write runtime properties now (not only when the operation ends).

    Runtime properties are data the plugin reads back (names, ids, references,
    recorded specs): they are stored exactly as given, never masked. Callers
    keep secret values out of them in the first place (secret inputs are
    recorded by name); masking is for text a person reads (``secrets.redact``).
    """
    props = ctx.instance.runtime_properties
    if not _pending(props) and all(key in props and props[key] == value
                                   for key, value in values.items()):
        return  # storage holds these already: no write (and no fetch after it)
    for key, value in values.items():
        props[key] = value
    ctx.instance.update()


def stage(ctx: Ctx, **values: Any) -> None:
    """Set runtime properties to be written with the operation's next ``persist`` or
    ``drop``, or by Cloudify when the operation ends (it writes changed runtime
    properties whether the operation succeeded or failed): for records whose loss, were
    the process killed first, only costs a later operation a repeated look (an API
    version negotiated again after the first contact, that a block with a pinned version
    reached the engine). One write instead of one more
    per record: on a manager each write is a REST update and a fetch after it."""
    props = ctx.instance.runtime_properties
    for key, value in values.items():
        if key not in props or props[key] != value:
            props[key] = value


def _pending(props: Any) -> bool:
    """Whether ``props`` hold changes not written yet (Cloudify's runtime properties
    track it; anything else is taken to)."""
    return getattr(props, 'dirty', True) is not False


def record_result(ctx: Ctx, name: str, exit_code: int, message: str, data: Any = None) -> Any:
    """Keep an action's result under ``name``; returns its data as kept.

    An action's output (an exec's stdout, log lines, task errors) is text a
    person reads and nothing reads back: ``results.result`` bounds it and masks
    the operation's secrets in it. Return what this returns, never the raw output.
    """
    kept = results.result(exit_code, message, data)
    persist(ctx, **{name: kept})
    return kept['data']


def report_action(ctx: Ctx, name: str, exit_code: int, message: str, data: Any = None,
                  output: str = '') -> Any:
    """An action's result, kept (``record_result``) and shown in the event stream: its
    message and, below it, its ``output`` (an exec's stdout and stderr, log lines, a
    table), as ``results.shown`` shows it: the end, bounded, masked. A result whose exit
    code is not 0 is a warning. Returns its data as kept."""
    kept = record_result(ctx, name, exit_code, message, data)
    log = ctx.logger.warning if exit_code else ctx.logger.info
    if output.strip():
        log('%s: %s\n%s', name, message, results.shown(output, name))
    else:
        log('%s: %s', name, message)
    return kept


def content_key(ctx: Ctx) -> str:
    """The instance's key for fingerprints of values (``docker_plugin.fingerprints``),
    made and kept (``_content_key``) the first time it is needed."""
    key = ctx.instance.runtime_properties.get(CONTENT_KEY)
    if not key:
        key = fingerprints.new_key()
        persist(ctx, **{CONTENT_KEY: key})
    return key


def recorded(ctx: Ctx, key: str, what: str, hint: str = '') -> str:
    """A runtime property an operation cannot do without (raises StateError)."""
    value = ctx.instance.runtime_properties.get(key)
    if not value:
        from docker_plugin.errors import StateError
        raise StateError(f'no {what} recorded for this instance{hint}')
    return value


def drop(ctx: Ctx, *keys: str) -> None:
    """Remove runtime properties now."""
    props = ctx.instance.runtime_properties
    present = [key for key in keys if key in props]
    if not present and not _pending(props):
        return  # nothing to remove, nothing staged: no write
    for key in present:
        del props[key]
    ctx.instance.update()


def resource_labels(ctx: Ctx) -> dict[str, str]:
    """Labels put on everything the plugin creates, for exact look-ups and clean-up.

    Where the manager gives the deployment ``resource_tags``, each becomes a
    label too (the plugin's own labels win on a clash).
    """
    labels = {f'{k}': str(v) for k, v in _resource_tags(ctx).items()}
    labels.update(instance_labels(ctx))
    labels['cloudify.blueprint'] = str(ctx.blueprint.id or '')
    labels[NODE_LABEL] = str(ctx.node.id or '')
    labels[MANAGED_BY[0]] = MANAGED_BY[1]
    return labels


def instance_labels(ctx: Ctx) -> dict[str, str]:
    """The labels that name exactly this node instance's objects."""
    return {DEPLOYMENT_LABEL: str(ctx.deployment.id or ''),
            INSTANCE_LABEL: str(ctx.instance.id or '')}


def node_labels(ctx: Ctx) -> dict[str, str]:
    """The labels of everything this deployment's node made, whichever instance (of
    this run or an earlier one) made it."""
    return {DEPLOYMENT_LABEL: str(ctx.deployment.id or ''), NODE_LABEL: str(ctx.node.id or '')}


def _resource_tags(ctx: Ctx) -> Mapping[str, Any]:
    try:
        tags = ctx.deployment.resource_tags
    except Exception:  # noqa: BLE001 - local runs and older managers have none
        return {}
    return tags if isinstance(tags, Mapping) else {}


def instance_suffix(ctx: Ctx) -> str:
    """The part of the instance id after the node name (``web_x1y2z3`` -> ``x1y2z3``)."""
    instance_id = str(ctx.instance.id)
    prefix = f'{ctx.node.id}_'
    return instance_id[len(prefix):] if instance_id.startswith(prefix) else instance_id


def instance_name(ctx: Ctx, base: str | None) -> str | None:
    """A Docker object name for this instance: ``base`` when the node has one
    instance, else ``base-<instance suffix>``, so names never collide."""
    if not base:
        return None
    if (getattr(ctx.node, 'number_of_instances', 1) or 1) > 1:
        return f'{base}-{instance_suffix(ctx)}'
    return base


def default_name(ctx: Ctx, separator: str = '.') -> str:
    """``<deployment><sep><node instance id>``: unique, and found again without listing."""
    name = re.sub(r'[^a-zA-Z0-9_.-]', '-', f'{ctx.deployment.id}{separator}{ctx.instance.id}')
    return name if name[:1].isalnum() else f'c{name}'


def object_name(ctx: Ctx, kwargs: Mapping[str, Any]) -> str:
    """A network's or volume's name: ``name`` (per instance when there are several),
    else ``<deployment>-<instance id>``."""
    base = resolve_input(ctx, kwargs, 'name', default='')
    if not isinstance(base, str) or (base and not re.fullmatch(r'[a-zA-Z0-9][a-zA-Z0-9_.-]*',
                                                              base)):
        raise InvalidInputError('name', 'expected a name like my-net ([a-zA-Z0-9][a-zA-Z0-9_.-]*)')
    return instance_name(ctx, base) or default_name(ctx, '-')


def existing_flags(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, bool]:
    """``use_external_resource`` and friends, from inputs or properties, validated."""
    out = {}
    for option in EXISTING:
        value = kwargs.get(option.name)
        if value is None:
            value = ctx.node.properties.get(option.name)
        out[option.name] = option.default if value is None else option.check(value, option.name)
    return out


IN_SWARM = kinds.relationship('in_swarm').type_name


def daemon_config(ctx: Side, kwargs: Mapping[str, Any]) -> DaemonClientConfig:
    """The engine to talk to: the ``daemon_client`` input or property; when both
    are empty and the node is ``in_swarm``, the Swarm node's manager. The
    confinement policy decides whether it may be reached."""
    raw = resolve_input(ctx, kwargs, 'daemon_client')
    if not raw and getattr(ctx.instance, 'relationships', None):
        for rel, _ in related(ctx, IN_SWARM):
            raw = node_of(ctx, rel.target.node).properties.get('daemon_client') or {}
            secrets.remember(*DAEMON_CLIENT.secret_values(raw))  # not this node's to learn
            break
    return client_config(ctx, raw)


def check_common_inputs(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """The inputs every node type has (``cloudify.nodes.docker.Base``: ``daemon_client``
    and the existing-resource flags), validated before an operation looks at what its
    instance recorded: a bad one is reported as itself, never as missing state."""
    if getattr(ctx, 'type', None) != 'node-instance':
        return  # a relationship operation's inputs are its relationship's
    existing_flags(ctx, kwargs)
    daemon_config(ctx, kwargs)


# The API version the instance's engine was found to speak: asked once (GET /version), then
# recorded, so that no later operation (a process of its own on a manager) asks again.
API_VERSION_KEY = '_engine_api'


@contextlib.contextmanager
def engine(ctx: Ctx, kwargs: Mapping[str, Any],
           config: DaemonClientConfig | None = None, record: bool = True,
           contact_now: bool = True) -> Iterator[Any]:
    """A client of the operation's engine, for a ``with`` block.

    With ``version: auto`` the API version is negotiated once per node instance and
    engine, and recorded (``_engine_api``); later operations use what was recorded.
    ``record`` False: nothing is read or recorded (an engine that need not be the
    instance's own, as validation asks every engine of a deployment).
    ``contact_now`` False: the block writes the instance (``persist``) before anything
    it makes could be left unrecorded, so the first contact goes with that write
    (one write fewer: on a manager a REST update and the fetch after it).

    That an operation of the node instance reached its engine is recorded too
    (``ENGINE_REACHED``): when the negotiation answered, or when the block ends other
    than with ``UnreachableError``; an instance that never did made nothing there. An
    engine that does not answer at all (``UnreachableError``, at connect, or later in
    the block when the version was known and nothing was asked at connect) is told with
    the field that holds its address and the retry budget.
    """
    config = config or daemon_config(ctx, kwargs)
    ctx.logger.debug('Docker engine: %s', config.describe())
    if config.warning:
        ctx.logger.warning(config.warning)
    props = _own_properties(ctx) if record else None
    known = props.get(API_VERSION_KEY) if props is not None else None
    reuse = str(known['version']) if config.version == 'auto' and isinstance(known, dict) and \
        known.get('base_url') == config.base_url and known.get('version') else None
    try:
        with open_client(records.replace(config, version=reuse) if reuse else config) \
                as client:
            # Already known reached, or (by recording the API version) said so now.
            known_reached = props is None or _says_reached(props)
            if config.version == 'auto' and not reuse and props is not None:
                # The instance's first contact is written before anything can be made
                # there (an uninstall after a kill must look for it): at once, or by the
                # block's own first write (``contact_now`` False); later it goes with the
                # operation's write.
                (stage if known_reached or not contact_now else persist)(
                    ctx, **{API_VERSION_KEY: {'base_url': config.base_url,
                                              'version': client.api.api_version}})
                known_reached = True
            answered = True
            try:
                yield client
            except UnreachableError:
                answered = False
                raise
            finally:
                if answered and not known_reached:
                    stage(ctx, **{ENGINE_REACHED: True})
    except UnreachableError as exc:
        raise locate(exc, config) from None


def _own_properties(ctx: Ctx) -> Any:
    """A node operation's runtime properties (None in a relationship operation)."""
    try:
        return ctx.instance.runtime_properties if getattr(ctx, 'type', None) != \
            'relationship-instance' else None
    except Exception:  # noqa: BLE001 - a context without an instance keeps nothing
        return None


def locate(exc: UnreachableError, config: DaemonClientConfig) -> UnreachableError:
    """``exc`` naming the field that holds ``config``'s address, and its retry budget."""
    return exc.locate(config.address_field, config.base_url, config.address_note,
                      config.unreachable_timeout)


def reached(ctx: Ctx) -> bool:
    """Whether an operation of this node instance ever reached its engine (the API
    version it speaks was learnt from it, or a block ended other than unreachable)."""
    return _says_reached(ctx.instance.runtime_properties)


def _says_reached(props: Mapping[str, Any]) -> bool:
    return bool(props.get(ENGINE_REACHED) or props.get(API_VERSION_KEY))


def made_nothing(ctx: Ctx) -> bool:
    """Whether this node instance has nothing on an engine: it never reached one, and
    records no object of any kind (one an earlier plugin installed records its ids but
    not ``ENGINE_REACHED``). Its stop and delete need no engine and no engine settings."""
    props = ctx.instance.runtime_properties
    return not reached(ctx) and not any(props.get(entry.keys.id) for entry in kinds.NODES
                                        if entry.keys is not None)


def is_local(config: DaemonClientConfig) -> bool:
    """The engine runs on this host (its PIDs and container addresses are ours to reach)."""
    return config.base_url.startswith('unix://')


def learn_container_secrets(ctx: Ctx, info: Mapping[str, Any]) -> None:
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


def log_lines(ctx: Ctx, header: str, lines: list[str]) -> None:
    ctx.logger.info('%s\n  %s', header, '\n  '.join(lines))
