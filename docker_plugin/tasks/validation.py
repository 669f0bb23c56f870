"""Validation of the whole deployment, before anything is made: every mistake at once.

Every kind's ``cloudify.interfaces.validation.create`` is ``validate``
(``kinds.VALIDATE``). cloudify-common's install (7.0.5,
``cloudify/plugins/lifecycle.py``: ``install_node_instance_subgraph``) runs it
first in each node instance's sequence, before ``precreate`` and ``create``,
and a dependent instance's sequence starts only when what it depends on is
installed: so the first validation to run comes before any create, and since
each validates every node of the deployment (``tasks/deployment.py``), the
first fails the install before anything exists, naming every mistake. A
seed-style node (another type whose lifecycle maps the plugin's tasks) has
no validation unless its blueprint maps ``docker.docker_plugin.tasks.validate``
to it: the first install operation it maps to the plugin (its ``create``, else
its ``configure``) validates the deployment first (``before_first``).

What is checked, each naming the node and the field:

* every node, by the registry (``kinds.Validation``): its inputs and
  properties key by key by the option tables, and what its operations check
  beyond them (``kinds.Rule``), run on the node as planned
  (``deployment.planned_ctx``: nothing recorded, no engine); its relationships
  lead to the kind their type says, and their properties hold;
* across nodes (``docker_plugin.claims``): a fixed host port on a node of
  several instances, a host port two nodes claim, a container, network or
  volume name two nodes would each make;
* on the engines those ports are claimed on (``resources.host_ports``), without
  changing anything there: host ports already taken by what is not this
  deployment's (a re-run's own containers hold theirs).

The outcome is kept per execution in this process (``validated``): a local
run runs every operation in one process, on threads, so the other instances'
validations take it instead of reading the deployment and asking the engines
again (those that start at once wait for the first's: ``_once``); on a manager
each operation is a process of its own and validates again.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping

from docker_plugin import claims, kinds, records
from docker_plugin.client import DaemonClientConfig
from docker_plugin.errors import (
    InvalidDeploymentError,
    InvalidInputError,
    Mistake,
    PluginError,
    is_engine_error,
)
from docker_plugin.resources import host_ports
from docker_plugin.tasks import deployment
from docker_plugin.tasks.context import (
    daemon_config,
    engine,
    existing_flags,
    is_local,
    resolve_input,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.deployment import PlannedContext, PlannedNode
from docker_plugin.tasks.operation import learn, learn_secrets, operation
from docker_plugin.tasks.relationships import BASE_KEYS

ENGINE_TIMEOUT = 10.0  # seconds for each engine call of validation
KEPT = 16              # executions whose outcome a process keeps
NAMED = {'network': 'name', 'volume': 'name'}  # kinds whose node names its object


@records.record(frozen=True)
class Report:
    """What validation found in a deployment."""

    mistakes: tuple[Mistake, ...]
    nodes: int
    engines: tuple[str, ...] = ()      # engines whose hosts' ports were looked at
    unchecked: tuple[str, ...] = ()    # engines that could not be asked, and why
    reused: bool = False               # an earlier validation of this execution


@operation(common_inputs=False, learn=False)
def validate(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.validation.create``: validate every node of the deployment
    (this node alone where no deployment can be read) and fail, listing every mistake,
    when anything is wrong."""
    def read() -> list[PlannedNode]:
        learn_secrets(ctx, kwargs, __name__)
        nodes = deployment.read(ctx)
        return nodes if nodes is not None else [deployment.own(ctx)]
    report = _once(ctx, read)
    if report is not None:  # always: read() has at least this node
        conclude(ctx, report)


def before_first(ctx: Ctx) -> None:
    """The first install operation a seed-style node maps to the plugin (its create, or
    its configure where it maps no create): the deployment validated first, unless the
    node maps validation's own create (see the module)."""
    if deployment.first_install_operation(ctx.node) != ctx.operation.name:
        return
    report = _once(ctx, lambda: deployment.read(ctx))
    if report is not None:
        conclude(ctx, report)


def conclude(ctx: Ctx, report: Report) -> None:
    """Say what validation found; raise every mistake as one failure."""
    if report.mistakes:
        raise InvalidDeploymentError(str(ctx.deployment.id), report.mistakes)
    if report.reused:
        ctx.logger.debug('Deployment validated earlier in this execution')
        return
    engines = f'; host ports looked at on {", ".join(report.engines)}' if report.engines else ''
    ctx.logger.info('Validated %s node%s of deployment %s: no mistakes%s', report.nodes,
                    '' if report.nodes == 1 else 's', ctx.deployment.id, engines)
    for line in report.unchecked:
        ctx.logger.warning('Host ports not looked at on engine %s', line)


# ------------------------------------------------------------------ once per execution
_kept: collections.OrderedDict[tuple[str, str], Report] = collections.OrderedDict()
_locks: collections.OrderedDict[tuple[str, str], threading.RLock] = collections.OrderedDict()
_guard = threading.Lock()
LOCKS = 4 * KEPT  # executions whose lock a process keeps (one whose check raised has no report)


@contextlib.contextmanager
def _making(ctx: Ctx) -> Iterator[None]:
    """Held while this execution's report is made in this process: the instances whose
    validations start at once (a local workflow's threads) wait for the first's report
    instead of each reading the whole deployment for it."""
    key = _execution(ctx)
    if key is None:
        yield
        return
    with _guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.RLock()
            while len(_locks) > LOCKS:  # the oldest: a validation still holding it only
                _locks.popitem(last=False)  # lets one started after it read again
    with lock:
        yield


def _once(ctx: Ctx, read: Callable[[], list[PlannedNode] | None]) -> Report | None:
    """This execution's report: an earlier clean one as it is; else, once the validations
    that started at once made theirs, the deployment ``read`` (None: none to read) and
    checked, or taken from the first that checked it."""
    clean = _clean_earlier(ctx)
    if clean is not None:  # every other instance's validation: nothing to read again
        return clean
    with _making(ctx):
        clean = _clean_earlier(ctx)
        if clean is not None:
            return clean
        nodes = read()
        return None if nodes is None else validated(ctx, nodes)


def validated(ctx: Ctx, nodes: list[PlannedNode]) -> Report:
    """The deployment's report: made by the first validation of this execution in this
    process, taken by the others (which wait while it is being made)."""
    for node in nodes:  # what a mistake's text might quote is masked in it
        for entry in node.plugin_kinds():
            learn(entry, [node.properties, node.inputs(entry)])
    key = _execution(ctx)
    if key is None:
        return check(ctx, nodes)
    with _making(ctx):
        if key in _kept:
            return records.replace(_kept[key], reused=True)
        report = check(ctx, nodes)
        with _guard:
            _kept[key] = report
            while len(_kept) > KEPT:
                _locks.pop(_kept.popitem(last=False)[0], None)
        return report


def _clean_earlier(ctx: Ctx) -> Report | None:
    """The report an earlier validation of this execution made in this process, when it
    found no mistakes: taken without reading the deployment again (a report with
    mistakes is taken through ``validated``, which learns what their text must mask)."""
    key = _execution(ctx)
    with _guard:
        report = _kept.get(key) if key is not None else None
    if report is None or report.mistakes:
        return None
    return records.replace(report, reused=True)


def _execution(ctx: Ctx) -> tuple[str, str] | None:
    try:
        execution = getattr(ctx, 'execution_id', None)
    except Exception:  # noqa: BLE001 - a context that knows no execution
        execution = None
    return (str(ctx.deployment.id), str(execution)) if execution else None


# ------------------------------------------------------------------ the checks
@records.record
class _Found:
    mistakes: list[Mistake] = records.field(default_factory=list)
    ports: list[claims.PortClaim] = records.field(default_factory=list)
    names: list[claims.NameClaim] = records.field(default_factory=list)
    engines: dict[str, DaemonClientConfig] = records.field(default_factory=dict)


def check(ctx: Ctx, nodes: Iterable[PlannedNode]) -> Report:
    """Every check of the module, over ``nodes``."""
    nodes = list(nodes)
    planned = deployment.by_id(nodes)
    found = _Found()
    for node in nodes:
        for entry in node.plugin_kinds():
            view = deployment.planned_ctx(ctx, node, planned)
            inputs = node.inputs(entry)
            found.mistakes += node_mistakes(view, node, entry, inputs)
            _claims(view, node, entry, inputs, found)
        found.mistakes += relationship_mistakes(node, planned)
    found.mistakes += claims.scaled(found.ports) + claims.shared(found.ports) + \
        claims.shared_names(found.names)
    checked, unchecked = _engines(ctx, found)
    return Report(tuple(sorted(set(found.mistakes))), sum(1 for n in nodes if n.plugin_kinds()),
                  tuple(checked), tuple(unchecked))


def node_mistakes(view: PlannedContext, node: PlannedNode, entry: kinds.NodeKind,
                  inputs: Mapping[str, Any]) -> list[Mistake]:
    """A node's inputs and properties, as the registry says its kind (and Base) checks
    them: by the tables key by key, then by the rules its operations check."""
    found: list[Mistake] = []
    for validation in (kinds.node('base').validation, entry.validation):
        for field in validation.fields:
            found += _field_mistakes(node, entry, field, inputs)
        reported = [mistake.field for mistake in found]
        for rule in validation.rules:
            if not node.runs(entry, rule.when):
                continue
            try:
                kinds.resolve(rule.function, entry.package)(view, inputs)
            except InvalidInputError as exc:
                if not any(_related(exc.field, field) for field in reported):
                    found.append(Mistake.of(node.id, exc))
    return found


def _field_mistakes(node: PlannedNode, entry: kinds.NodeKind, field: kinds.Field,
                    inputs: Mapping[str, Any]) -> list[Mistake]:
    table = kinds.table(field.table)
    sections = kinds.resolve(field.sections) if field.sections else None
    if field.name:
        return [Mistake.of(node.id, exc, where)
                for value, where in node.given(field.name, entry)
                for exc in table.problems(value, field.name, sections)]
    raw = {}
    for option in table:
        value = inputs.get(option.name)
        if value is None:
            value = node.properties.get(option.name)
        if deployment.given(value):
            raw[option.name] = value
    return [Mistake.of(node.id, exc) for exc in table.problems(raw, '', sections)]


def _related(one: str, other: str) -> bool:
    """One field is the other, or inside it."""
    def inside(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((f'{outer}.', f'{outer}['))
    return inside(one, other) or inside(other, one)


def relationship_mistakes(node: PlannedNode,
                          planned: Mapping[str, PlannedNode]) -> list[Mistake]:
    """Each of the plugin's relationships leads to the kind its type says, and its
    properties hold (by the tables its type's properties come from)."""
    found = []
    for rel in node.relationships:
        entry = kinds.relationship_of(rel.type_hierarchy)
        if entry is None:
            continue
        field = f'relationship to {rel.target}'
        target = planned.get(rel.target)
        expected = kinds.type_name(entry.target_kind)
        if target is not None and expected not in target.type_hierarchy:
            found.append(Mistake(node.id, field, (
                f'a {entry.type_name} must lead to a {expected}; {rel.target} is a '
                f'{target.type}')))
        given = {k: v for k, v in rel.properties.items() if v not in (None, '', {}, [])}
        for prop in entry.properties:
            if isinstance(prop, kinds.TableProps):
                found += [Mistake.of(node.id, exc) for exc in kinds.table(prop.table).problems(
                    {k: v for k, v in given.items() if k not in prop.exclude}, field,
                    extra=BASE_KEYS)]
    return found


def _claims(view: PlannedContext, node: PlannedNode, entry: kinds.NodeKind,
            inputs: Mapping[str, Any], found: _Found) -> None:
    """What the node would hold on its engine that only one can: host ports, names.
    What is wrong in them was said already: it claims nothing."""
    try:
        config = daemon_config(view, inputs)
        flags = existing_flags(view, inputs)
    except InvalidInputError:
        return
    address = config.base_url
    found.engines.setdefault(address, config)
    creates = not (flags['use_external_resource'] or flags['use_if_exists'])
    single = node.instances == 1
    if entry.kind == 'container':
        from docker_plugin.options.container import CONTAINER  # only where a container is
        try:
            parts = CONTAINER.validate(resolve_input(view, inputs, 'container_config'),
                                       'container_config')
            start = CONTAINER.validate(resolve_input(view, inputs, 'container_start'),
                                       'container_start').get('host', {})
        except InvalidInputError:
            return
        source, bindings = ('container_start', start['port_bindings']) \
            if start.get('port_bindings') is not None else \
            ('container_config', parts.get('host', {}).get('port_bindings') or {})
        for key, listed in bindings.items():
            found.ports += claims.port_claims(node.id, f'{source}.port_bindings.{key}', address,
                                              node.instances, {key: listed})
        name = parts.get('create', {}).get('name')
        if name and single:
            found.names.append(claims.NameClaim(node.id, 'container_config.name', address,
                                                'container', name, creates))
    elif entry.kind in NAMED:
        name = resolve_input(view, inputs, NAMED[entry.kind], default='')
        if isinstance(name, str) and name and single:
            found.names.append(claims.NameClaim(node.id, NAMED[entry.kind], address, entry.kind,
                                                name, creates))


def _engines(ctx: Ctx, found: _Found) -> tuple[list[str], list[str]]:
    """Host ports already taken on the engines ports are claimed on."""
    checked, unchecked = [], []
    deployment_id = str(ctx.deployment.id)
    for address in sorted({claim.engine for claim in found.ports}):
        config = found.engines[address]
        quick = records.replace(config, timeout=min(config.timeout, ENGINE_TIMEOUT))
        try:
            # another node's engine, perhaps: nothing recorded on this instance
            with engine(ctx, {}, quick, record=False) as client:
                held = host_ports.holders(client.api, address if is_local(config) else '')
        except InvalidInputError as exc:
            first = next(c for c in found.ports if c.engine == address)
            found.mistakes.append(Mistake(first.node, 'daemon_client', exc.problem))
            continue
        except PluginError as exc:
            unchecked.append(f'{address} ({str(exc).splitlines()[0][:200]})')
            continue
        except Exception as exc:  # an engine's own failures (re-raised: anything else)
            if not is_engine_error(exc):
                raise
            unchecked.append(f'{address} ({type(exc).__name__}: {str(exc)[:200]})')
            continue
        checked.append(address)
        found.mistakes += claims.taken(found.ports, held, deployment_id, address)
    return checked, unchecked
