"""What network and volume operations share: create-or-adopt, remove-or-keep, drift.

Both follow the same rules: ``docker_plugin.adoption.decide`` says whether to
create or adopt; what was adopted is never removed unless ``delete_adopted``
is set; ``retain`` keeps even what the deployment made; objects this
instance made but never recorded (a crash right after the engine answered)
are found by their labels and removed too.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from docker_plugin.adoption import Choice, decide, removes
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
)
from docker_plugin.options.base import OptionTable
from docker_plugin.options.refusals import blame
from docker_plugin.resources import drift
from docker_plugin.tasks.context import engine, is_mine, persist, recorded

Info = Mapping[str, Any]
# Cloudify's own mark of an adopted resource (cloudify-utilities-plugins-sdk).
TAGGED = '__cloudify_tagged_external_resource'


def tagged(adopted: bool) -> dict[str, bool]:
    """The runtime property Cloudify's plugins set on what they adopted."""
    return {TAGGED: True} if adopted else {}


def refused(exc: PluginError, what: str, table: OptionTable,
            given: Mapping[str, Mapping[str, Any]], fallback: str,
            suspects: Iterable[str] = (), suspected: str = '') -> InvalidInputError:
    """The engine's refusal of what the blueprint asked, as a bad input naming the
    option it is about (``options.refusals.blame``): ``given`` holds, by input (the
    one that wins first; '' for options that are node properties of their own), the
    options the blueprint set there. When the refusal's words fit none of them, the
    one option of ``suspects`` given (the only ones that could have caused it, as
    ``suspected`` says) is named, else ``fallback``."""
    inputs: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field, options in given.items():
        for name, value in options.items():
            inputs.setdefault(name, field)
            values.setdefault(name, value)
    option = blame(table, values, exc.detail or str(exc))
    if option is None:
        # a flag set false, a zero or an empty value asks nothing of the runtime
        found = [name for name, value in values.items()
                 if name in set(suspects) and value not in (None, False, 0, '', [], {})]
        if len(found) == 1:
            option, what = found[0], f'{what} ({suspected}: {found[0]} is the only one given)'
    if option is None:
        return InvalidInputError(fallback, f'{what}: {exc}')
    return InvalidInputError('.'.join(filter(None, (inputs[option], option))), f'{what}: {exc}')


def ensure(ctx: Any, kind: str, name: str, flags: Mapping[str, bool], existing: Info | None,
           create: Callable[[], Info], field: str = 'name', table: OptionTable | None = None,
           given: Mapping[str, Any] | None = None) -> tuple[Info, bool]:
    """Create the object or adopt the existing one, as the flags say: (info, adopted?).

    ``existing`` is the object's whole inspect data (what is adopted or reused is
    recorded from it); its labels are at ``Labels``, or at ``Spec.Labels`` for
    swarm objects. ``field`` is what a wrong choice of the flags is blamed on;
    what the engine refuses to create (an unknown driver, bad options) is the
    option of ``<kind>_config`` it is about (``given``, by ``table``), or
    ``<kind>_config`` as a whole.
    """
    exists = existing is not None
    mine = exists and is_mine(labels_of(existing), ctx)
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], exists, mine)
    if decision.choice is None:
        raise InvalidInputError(field, f'{kind} {name} {decision.problem}')
    if decision.choice is Choice.CREATE:
        ctx.logger.info('Creating %s %s', kind, name)
        try:
            return create(), False
        except (RefusedError, NotFoundError) as exc:
            config = f'{kind}_config'
            if table is None:
                raise InvalidInputError(config, f'the engine refused the {kind}: {exc}') \
                    from None
            raise refused(exc, f'the engine refused the {kind}', table,
                          {config: given or {}}, config) from None
    verb = 'Adopting existing' if decision.choice is Choice.ADOPT else 'Reusing'
    ctx.logger.info('%s %s %s', verb, kind, name)
    return existing, decision.choice is Choice.ADOPT


def labels_of(info: Info) -> Mapping[str, str] | None:
    """An object's labels: top level (containers' Config aside: networks, volumes) or in
    its ``Spec`` (swarms, services, secrets, configs)."""
    if 'Labels' in info:
        return info.get('Labels')
    return (info.get('Spec') or {}).get('Labels')


def should_remove(ctx: Any, kind: str, name: str, adopted: bool,
                  flags: Mapping[str, bool]) -> bool:
    """Whether uninstall removes the object; logs why when it does not."""
    remove, why = removes(adopted, flags['delete_adopted'], flags['retain'])
    if not remove:
        ctx.logger.info('Keeping %s %s: %s', kind, name, why)
    return remove


def differences(table: OptionTable, options: Mapping[str, Any],
                info: Info) -> list[drift.Difference]:
    """Drift of a network or volume: its declared options against its inspect data."""
    return drift.differences(table, options, drift.desired_view(table, options), info)


def record_drift(ctx: Any, kind: str, found: Iterable[drift.Difference]) -> list[dict]:
    listed = [d.as_dict() for d in found]
    persist(ctx, drift=listed)
    if listed:
        ctx.logger.warning('Drift of the %s: %s', kind, '; '.join(d.describe() for d in found))
    else:
        ctx.logger.info('No drift: the %s has every declared option', kind)
    return listed


def refresh(ctx: Any, kwargs: Mapping[str, Any], kind: str, key: str,
            inspect: Callable[[Any, str], Info | None],
            summarise: Callable[[Info], Mapping[str, Any]]) -> None:
    """``pull``: the object's runtime properties again from the engine's inspect.

    ``key`` is the runtime property holding the object's id or name;
    ``inspect(api, id)`` answers None when the object is gone (a ``StateError``
    here), ``summarise(info)`` what is recorded of it.
    """
    ident = recorded(ctx, key, kind)
    shown = str(ctx.instance.runtime_properties.get(f'{kind}_name') or ident)[:64]
    with engine(ctx, kwargs) as client:
        info = inspect(client.api, ident)
    if info is None:
        raise StateError(f'{kind} {shown} no longer exists')
    persist(ctx, **summarise(info))
    ctx.logger.info('%s %s refreshed from the engine', kind.capitalize(), shown)
