"""The operation wrapper every task goes through.

Before the task's first line it learns the operation's secrets (every value
the option tables mark secret, in the inputs, in the node's properties and in
those of the nodes it relates to: the Secrets a Service uses)
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
import traceback
from typing import Any, Callable, Mapping

from cloudify import ctx as ctx_proxy
from cloudify.decorators import operation as cloudify_operation
from cloudify.exceptions import NonRecoverableError, OperationRetry, RecoverableError

from docker_plugin import secrets
from docker_plugin.errors import (
    UNCLASSIFIED_RETRIES,
    PluginError,
    bounded,
    classify,
    is_engine_error,
)
from docker_plugin.options import SECRET_INPUTS, secret_values
from docker_plugin.tasks.context import check_common_inputs

RETRY_AFTER = 5  # seconds before Cloudify retries transient engine trouble
SECRET_USE = 'uses_secret'  # the relationship through which a service reads a Secret
secrets.guard_every_logger()


def learn_secrets(ctx: Any, kwargs: Mapping[str, Any]) -> None:
    """Remember every secret value the inputs and node properties hold."""
    sources = [kwargs]
    kind = getattr(ctx, 'type', None)
    holders = [ctx.source, ctx.target] if kind == 'relationship-instance' else \
        [ctx] if kind == 'node-instance' else []
    for holder in holders:
        try:
            sources.append(holder.node.properties)
        except Exception:  # noqa: BLE001 - a node without properties has nothing to learn
            continue
    if kind == 'node-instance':
        sources += _related_properties(ctx)
    for source in sources:
        for name in SECRET_INPUTS:
            value = source.get(name) if isinstance(source, Mapping) else None
            if value:
                secrets.remember(*secret_values(name, value))


def _related_properties(ctx: Any) -> list[Mapping[str, Any]]:
    """The properties of the nodes this instance's relationships point at, as far as
    they hold secrets for it: a Service's tasks can print what its Secrets hold
    (a Config's ``data`` is not secret, so only a uses_secret target's counts)."""
    found: list[Mapping[str, Any]] = []
    try:
        related = list(ctx.instance.relationships or [])
    except Exception:  # noqa: BLE001 - no relationships to learn from
        return found
    for relationship in related:
        try:
            properties = dict(relationship.target.node.properties)
            types = [relationship.type or '']
            types += list(getattr(relationship, 'type_hierarchy', None) or [])
        except Exception:  # noqa: BLE001 - a target that cannot be read has nothing to give
            continue
        if not any(str(t).endswith(SECRET_USE) for t in types):
            properties.pop('data', None)
        found.append(properties)
    return found


def _failure(ctx: Any, exc: PluginError) -> Exception:
    message = secrets.redact(str(exc))
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


def _retry_number(ctx: Any) -> int:
    try:
        return int(ctx.operation.retry_number or 0)
    except Exception:  # noqa: BLE001 - no operation context: treat as the first attempt
        return 0


def operation(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a task the real ctx, its secrets, a safe logger and Cloudify's errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.pop('ctx', None) or ctx_proxy
        secrets.forget_all()
        learn_secrets(ctx, kwargs)
        logger = ctx.logger
        logger.addFilter(secrets.FILTER)
        try:
            check_common_inputs(ctx, kwargs)  # inputs before state, in every operation
            # What an operation returns is data (drift lists that Cloudify stores and
            # reads back, action results already masked where they quote output):
            # returned as it is, never masked.
            return func(ctx, *args, **kwargs)
        except OperationRetry:
            raise
        except (RecoverableError, NonRecoverableError) as exc:
            raise type(exc)(bounded(secrets.redact(str(exc)))) from None
        except PluginError as exc:
            raise _failure(ctx, exc) from None
        except Exception as exc:  # noqa: BLE001 - every failure becomes one Cloudify error
            if is_engine_error(exc):
                raise _failure(ctx, classify(exc, func.__name__)) from None
            logger.debug('%s failed:\n%s', func.__name__, traceback.format_exc())
            text = str(exc).splitlines()[0] if str(exc) else ''
            raise NonRecoverableError(secrets.redact(bounded(
                f'{func.__name__} failed: {type(exc).__name__}: {text}', 1000))) from None
        finally:
            logger.removeFilter(secrets.FILTER)
            secrets.forget_all()

    return cloudify_operation(wrapper, resumable=True)
