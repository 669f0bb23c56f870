"""The operation wrapper every task goes through.

Before the task's first line it learns the operation's secrets (every value
the registry's secret inputs hold, in the inputs, in the node's properties and
in those of the nodes it relates to: the Secrets a Service uses)
and puts a redacting, bounding filter on ``ctx.logger``; after it, whatever
went wrong becomes exactly one Cloudify error with a short, redacted,
one-line-first message:

* a known transient failure: ``RecoverableError`` (Cloudify retries);
* an unclassified engine failure: ``RecoverableError`` for the first
  ``UNCLASSIFIED_RETRIES`` attempts, then ``NonRecoverableError`` saying so;
* anything else, including a bug: ``NonRecoverableError`` (the traceback
  goes to the debug log only).
"""

from __future__ import annotations

import functools
import time
import traceback
from typing import Any, Callable, Mapping

from cloudify import ctx as ctx_proxy
from cloudify.decorators import operation as cloudify_operation
from cloudify.exceptions import NonRecoverableError, OperationRetry, RecoverableError

from docker_plugin import kinds, secrets
from docker_plugin.client import FIELD
from docker_plugin.errors import (
    UNCLASSIFIED_RETRIES,
    PluginError,
    UnreachableError,
    bounded,
    classify,
    is_engine_error,
)
from docker_plugin.tasks import kept_nodes
from docker_plugin.tasks.context import (
    UNREACHABLE,
    check_common_inputs,
    daemon_config,
    drop,
    locate,
    made_nothing,
    persist,
)
from docker_plugin.tasks.ctx import Ctx

RETRY_AFTER = 5  # seconds before Cloudify retries transient engine trouble
# Operations that take down what an instance made: with nothing made, they need neither
# the engine nor valid engine settings (a wrong address is uninstalled as it was given).
TEARDOWN = (f'{kinds.LIFECYCLE}.stop', f'{kinds.LIFECYCLE}.delete')
secrets.guard_every_logger()


def learn_secrets(ctx: Ctx, kwargs: Mapping[str, Any], module: str = '') -> None:
    """Remember every secret value the operation can see, as the registry says which
    inputs hold secrets (``docker_plugin.kinds``): in the inputs and the node's
    properties, by the node's kind (a node that is not one of ours, seed style, by the
    kind whose operation runs, else every kind's); and in the properties of the nodes
    its relationships point at, by their kinds (a Service's tasks can print what its
    Secrets hold; a Config's value is not secret, so it is not learnt). In a local run,
    the nodes it read are kept for the rest of the execution (``kept_nodes``)."""
    kind = getattr(ctx, 'type', None)
    own = kinds.of_module(module)
    if kind == 'relationship-instance':
        for side in (ctx.source, ctx.target):
            learn(_kind_of(side.node, own), [kwargs, _properties(side.node)])
        return
    if kind != 'node-instance':
        learn(own, [kwargs])
        return
    learn(_kind_of(ctx.node, own), [kwargs, _properties(ctx.node)])
    kept_nodes.keep(ctx)  # as read, before the task can touch it
    try:
        related = list(ctx.instance.relationships or [])
    except Exception:  # noqa: BLE001 - no relationships to learn from
        related = []
    for relationship in related:
        try:
            target = kept_nodes.node_of(ctx, relationship.target.node)
        except Exception:  # noqa: BLE001 - a target that cannot be read has nothing to give
            continue
        target_kind = _kind_of(target, None)
        if target_kind is not None:
            learn(target_kind, [_properties(target)])
        kept_nodes.keep(ctx, target)


def _kind_of(node: Any, fallback: kinds.NodeKind | None) -> kinds.NodeKind | None:
    hierarchy = getattr(node, 'type_hierarchy', None) or [getattr(node, 'type', None)]
    return kinds.of_types(hierarchy) or fallback


def _properties(node: Any) -> Mapping[str, Any]:
    try:
        return dict(node.properties)
    except Exception:  # noqa: BLE001 - a node without properties has nothing to learn
        return {}


def learn(kind: kinds.NodeKind | None, sources: list[Mapping[str, Any]]) -> None:
    """Remember the secrets of ``kind``'s secret inputs (every kind's: None) in ``sources``."""
    finders = kinds.secret_finders(kind) if kind is not None else kinds.all_secret_inputs()
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        for name, find in finders.items():
            value = source.get(name)
            if value:
                secrets.remember(*find(value))


def _failure(ctx: Ctx, kwargs: Mapping[str, Any], exc: PluginError) -> Exception:
    message = secrets.redact(str(exc))
    if isinstance(exc, UnreachableError):
        return _unreachable(ctx, kwargs, exc, message)
    if exc.recoverable is True:
        return RecoverableError(message, retry_after=RETRY_AFTER)
    if exc.recoverable is None:
        attempt = _retry_number(ctx)
        if attempt < UNCLASSIFIED_RETRIES:
            return RecoverableError(f'{message} (not a known failure: retry {attempt + 1} of '
                                    f'{UNCLASSIFIED_RETRIES})', retry_after=RETRY_AFTER)
        return NonRecoverableError(f'{message} (not a known failure; still failing after '
                                   f'{attempt} retries, so not retried again)')
    return NonRecoverableError(message)


def _unreachable(ctx: Ctx, kwargs: Mapping[str, Any], exc: UnreachableError,
                 message: str) -> Exception:
    """No engine answers: retried until ``daemon_client.unreachable_timeout`` after the
    first failure, then a permanent failure naming the field that holds the address, the
    address and what was tried (Cloudify's own retries may end first: every message
    names the field and the address)."""
    if exc.budget is None and getattr(ctx, 'type', None) == 'node-instance':
        try:  # raised outside an ``engine`` block (compose's own calls): the node's engine
            locate(exc, daemon_config(ctx, kwargs))
        except PluginError:
            pass
    if exc.budget is None:  # a relationship's engine: passing trouble like any other
        return RecoverableError(message, retry_after=RETRY_AFTER)
    since, tries = _first_failure(ctx)
    elapsed = max(0.0, time.time() - since)
    left = exc.budget - elapsed
    tried = f'tried {tries} time{"s" if tries != 1 else ""} in {elapsed:.0f}s'
    if left <= 0:
        return NonRecoverableError(secrets.redact(
            f'{exc.field}: the Docker engine at {exc.address}{exc.note} is unreachable '
            f'({exc.reason}); {tried}, and {FIELD}.unreachable_timeout is {exc.budget:g}s: '
            'correct the address or start the engine, then run the workflow again'))
    return RecoverableError(
        f'{message} [{exc.field}{exc.note}: {exc.address}; {tried}; Cloudify retries it '
        f'until {exc.budget:g}s after the first failure ({FIELD}.unreachable_timeout)]',
        retry_after=min(RETRY_AFTER, max(0.5, left)))


def _first_failure(ctx: Ctx) -> tuple[float, int]:
    """When this operation first failed to reach its engine (this attempt included, in
    its runs since the first try), and how many attempts failed so: a node operation
    keeps them in a runtime property (exact across processes and any retry interval); a
    relationship operation, which has no instance of its own, counts its retries."""
    retry = _retry_number(ctx)
    if getattr(ctx, 'type', None) != 'node-instance':
        return time.time() - retry * RETRY_AFTER, retry + 1
    operation_name = ctx.operation.name
    execution = getattr(ctx, 'execution_id', None)
    record = ctx.instance.runtime_properties.get(UNREACHABLE)
    if not (retry > 0 and isinstance(record, dict) and
            record.get('operation') == operation_name and
            record.get('execution') == execution and
            isinstance(record.get('since'), (int, float))):
        record = {'operation': operation_name, 'execution': execution,
                  'since': time.time(), 'tries': 0}
    record = {**record, 'tries': int(record.get('tries') or 0) + 1}
    try:
        persist(ctx, **{UNREACHABLE: record})
    except Exception:  # noqa: BLE001 - not kept: this attempt still counts from the record
        ctx.logger.debug('could not keep the time of the first failure to reach the engine')
    return float(record['since']), record['tries']


def _retry_number(ctx: Ctx) -> int:
    try:
        return int(ctx.operation.retry_number or 0)
    except Exception:  # noqa: BLE001 - no operation context: treat as the first attempt
        return 0


def _tears_down_nothing(ctx: Ctx) -> bool:
    """The lifecycle's stop or delete of a node instance that made nothing on any engine."""
    try:
        name = ctx.operation.name
    except Exception:  # noqa: BLE001 - no operation context: not a teardown
        return False
    return name in TEARDOWN and getattr(ctx, 'type', None) == 'node-instance' and \
        made_nothing(ctx)


def operation(func: Callable[..., Any] | None = None, *,
              common_inputs: bool = True, learn: bool = True) -> Any:
    """Give a task the real ctx, its secrets, a safe logger and Cloudify's errors.

    Before the task, the inputs every node type has are checked (``common_inputs``;
    not for validation, which reports them with every other mistake), and the first
    install operation of a seed-style node validates the whole deployment first
    (``tasks.validation.before_first``): such a node has no validation of its own.
    ``learn`` False: the task learns its secrets itself, only when it reads anything
    that holds them (validation, which most instances take from the first of their
    execution, reading nothing: no node, no instance).
    """
    if func is None:
        return functools.partial(operation, common_inputs=common_inputs, learn=learn)
    task = func

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kept_nodes.operation_context(kwargs.pop('ctx', None) or ctx_proxy)
        secrets.forget_all()
        if learn:
            learn_secrets(ctx, kwargs, task.__module__)
        unreachable_before = learn and _unreachable_recorded(ctx)
        logger = ctx.logger
        logger.addFilter(secrets.FILTER)
        try:
            if _seed_install(ctx):
                from docker_plugin.tasks.validation import before_first
                before_first(ctx)
            if common_inputs and not _tears_down_nothing(ctx):
                check_common_inputs(ctx, kwargs)  # inputs before state, in every operation
            # What an operation returns is data (drift lists that Cloudify stores and
            # reads back, action results already masked where they quote output):
            # returned as it is, never masked.
            outcome = task(ctx, *args, **kwargs)
            if unreachable_before:
                drop(ctx, UNREACHABLE)  # reached again: the next failure starts anew
            return outcome
        except OperationRetry:
            raise
        except (RecoverableError, NonRecoverableError) as exc:
            raise type(exc)(bounded(secrets.redact(str(exc)))) from None
        except PluginError as exc:
            raise _failure(ctx, kwargs, exc) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes one Cloudify error
            if is_engine_error(exc):
                raise _failure(ctx, kwargs, classify(exc, task.__name__)) from None
            logger.debug('%s failed:\n%s', task.__name__, traceback.format_exc())
            text = str(exc).splitlines()[0] if str(exc) else ''
            raise NonRecoverableError(secrets.redact(bounded(
                f'{task.__name__} failed: {type(exc).__name__}: {text}', 1000))) from None
        finally:
            logger.removeFilter(secrets.FILTER)
            secrets.forget_all()

    return cloudify_operation(wrapper, resumable=True)


def _unreachable_recorded(ctx: Ctx) -> bool:
    """Whether an earlier attempt recorded that it could not reach the engine (only a
    failing attempt records it, so one that succeeds need look only before it runs)."""
    try:
        return getattr(ctx, 'type', None) == 'node-instance' and \
            UNREACHABLE in ctx.instance.runtime_properties
    except Exception:  # noqa: BLE001 - a context without an instance records nothing
        return False


INSTALL = tuple(f'{kinds.LIFECYCLE}.{name}' for name in ('precreate', 'create', 'configure',
                                                         'start'))


def _seed_install(ctx: Ctx) -> bool:
    """An install operation of a node whose type is not one of the plugin's."""
    try:
        if getattr(ctx, 'type', None) != 'node-instance' or ctx.operation.name not in INSTALL:
            return False
        return kinds.of_types(getattr(ctx.node, 'type_hierarchy', None) or
                              [ctx.node.type]) is None
    except Exception:  # noqa: BLE001 - a context without an operation or a node is none
        return False
