"""Create-or-adopt and keep-or-remove for named Docker objects (networks, volumes).

Shared by the network and volume operations so both follow the same rules:
``docker_plugin.adoption.decide`` says whether to create or adopt; what was
adopted is never removed unless ``delete_adopted`` is set; ``retain`` keeps
even what the deployment made.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from docker_plugin.adoption import Action, decide
from docker_plugin.cloudify_ops import instance_name, is_mine, resolve_input
from docker_plugin.errors import InvalidInputError

Info = Mapping[str, Any]


def ensure(ctx: Any, kind: str, name: str, flags: Mapping[str, bool], existing: Info | None,
           labels_of: Callable[[Info], Mapping[str, str] | None],
           create: Callable[[], Info]) -> tuple[Info, bool]:
    """Create the object or adopt the existing one, as the flags say.

    Returns:
        (inspect data, adopted?)

    Raises:
        InvalidInputError: naming ``name`` when neither is allowed.
    """
    exists = existing is not None
    mine = exists and is_mine(labels_of(existing), ctx)
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], exists, mine)
    if decision.action is None:
        raise InvalidInputError('name', f'{kind} {name} {decision.problem}')
    if decision.action is Action.CREATE:
        ctx.logger.info('Creating %s %s', kind, name)
        return create(), False
    verb = 'Adopting existing' if decision.action is Action.ADOPT else 'Reusing'
    ctx.logger.info('%s %s %s', verb, kind, name)
    return existing, decision.action is Action.ADOPT


def should_remove(ctx: Any, kind: str, name: str, adopted: bool, flags: Mapping[str, bool],
                  retain: bool) -> bool:
    """Whether uninstall removes the object; logs why when it does not."""
    if adopted and not flags['delete_adopted']:
        ctx.logger.info('Keeping %s %s: it was adopted, not created (set delete_adopted to '
                        'remove it)', kind, name)
        return False
    if retain:
        ctx.logger.info('Keeping %s %s: retain is set', kind, name)
        return False
    return True


def object_name(ctx: Any, kwargs: Mapping[str, Any]) -> str:
    """The object's Docker name: ``name`` (per instance when there are several),
    else ``<deployment>-<instance id>``."""
    base = resolve_input(ctx, kwargs, 'name', default='')
    if not isinstance(base, str):
        raise InvalidInputError('name', f'expected a string, got {type(base).__name__}')
    return instance_name(ctx, base) or f'{ctx.deployment.id}-{ctx.instance.id}'


def retain(ctx: Any, kwargs: Mapping[str, Any]) -> bool:
    """The ``retain`` flag: keep the object on uninstall even though we made it."""
    value = resolve_input(ctx, kwargs, 'retain', default=False)
    if not isinstance(value, bool):
        raise InvalidInputError('retain', f'expected true or false, got {value!r}')
    return value
