"""The one lifecycle every kind shares: create or adopt, record at once, find what was
made but not recorded, delete only what is ours, status, drift and refresh.

The rules, for every kind alike:

* ``docker_plugin.adoption.decide`` says whether to create or adopt; an object
  that carries this very node instance's labels (a retried or resumed create)
  is reused, never adopted and never made twice;
* what is made or adopted is recorded the moment the engine answers, with
  one vocabulary of runtime properties (``docker_plugin.kinds.Keys``: the
  kind's id and name keys, ``adopted``, ``drift``);
* on delete, what was adopted stays unless ``delete_adopted`` is set, and
  ``retain`` keeps even what the deployment made; otherwise the recorded
  object goes, and so does every object carrying this instance's labels that
  was never recorded (a crash right after the engine answered);
* ``check_status`` fails when the recorded object is gone; ``pull`` records
  it again from the engine; drift is kept in ``drift``.

A kind describes how to reach its objects with an ``Objects`` (resource
functions) and writes only what is its own.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from docker_plugin import kinds, plans, results
from docker_plugin.adoption import Choice, decide, removes
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
)
from docker_plugin.options.base import OptionTable
from docker_plugin.options.lifecycle import UPDATE
from docker_plugin.options.refusals import blame
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks.context import (
    drop,
    engine,
    existing_flags,
    instance_labels,
    is_mine,
    persist,
    recorded,
)
from docker_plugin.tasks.ctx import Ctx

Info = Mapping[str, Any]
TAGGED = kinds.TAGGED  # Cloudify's own mark of an adopted resource
ADOPTED = 'adopted'


@dataclasses.dataclass(frozen=True)
class Objects:
    """How the lifecycle reaches one kind's objects on the engine."""

    kind: kinds.NodeKind
    inspect: Callable[[Any, str], Info | None]            # None: no such object
    find_by_labels: Callable[[Any, Mapping[str, str]], Sequence[Info]]
    remove: Callable[[Any, Info], bool]                   # False: already gone
    summarise: Callable[[Info], Mapping[str, Any]]        # what is recorded of it
    ident: Callable[[Info], str] = lambda info: str(info.get('Id') or info.get('ID') or
                                                    info.get('Name') or '')

    @property
    def word(self) -> str:
        """The kind in messages, from its type's name (``SwarmNode``: 'swarm node',
        ``ComposeProject``: 'compose project')."""
        short = self.kind.type_name.rsplit('.', 1)[-1]
        return re.sub(r'(?<!^)(?=[A-Z])', ' ', short).lower()

    @property
    def keys(self) -> kinds.Keys:
        assert self.kind.keys is not None, self.kind.kind
        return self.kind.keys


def recorded_id(ctx: Ctx, objects: Objects) -> str | None:
    return ctx.instance.runtime_properties.get(objects.keys.id) or None


def shown(ctx: Ctx, objects: Objects) -> str:
    """The recorded object's name for messages (its id when it has none)."""
    props = ctx.instance.runtime_properties
    return str(props.get(objects.keys.name) or props.get(objects.keys.id) or '')[:64]


def adopted(ctx: Ctx, objects: Objects | None = None) -> bool:
    """Whether this instance adopted its object (0.2.0 recorded ``<kind>_adopted``)."""
    props = ctx.instance.runtime_properties
    legacy = objects.keys.legacy_adopted if objects is not None else None
    return bool(props.get(ADOPTED) or (legacy and props.get(legacy)))


def record(ctx: Ctx, objects: Objects, info: Info, was_adopted: bool) -> None:
    """Record the object the moment it is known (before the next call can fail)."""
    persist(ctx, **{ADOPTED: was_adopted}, **tagged(was_adopted), **objects.summarise(info))


def present(ctx: Ctx, api: EngineApi, objects: Objects) -> Info | None:
    """The object this instance recorded, if the engine still has it."""
    ident = recorded_id(ctx, objects)
    return objects.inspect(api, ident) if ident else None


def unrecorded(ctx: Ctx, api: EngineApi, objects: Objects) -> list[Info]:
    """Objects that carry this very instance's labels but are not the recorded one."""
    ident = recorded_id(ctx, objects)
    return [info for info in objects.find_by_labels(api, instance_labels(ctx))
            if objects.ident(info) != ident]


def require(ctx: Ctx, api: EngineApi, objects: Objects) -> Info:
    """The recorded object, which must exist.

    Raises:
        StateError: none is recorded, or the engine no longer has it.
    """
    ident = recorded(ctx, objects.keys.id, objects.word)
    info = objects.inspect(api, ident)
    if info is None:
        raise StateError(f'{objects.word} {shown(ctx, objects) or ident[:12]} no longer exists')
    return info


def make_or_adopt(ctx: Ctx, api: EngineApi, objects: Objects, name: str, flags: Mapping[str, bool],
                  existing: Info | None, create: Callable[[], Info], field: str = 'name',
                  table: OptionTable | None = None,
                  given: Mapping[str, Any] | None = None) -> tuple[Info, bool]:
    """``create``: the recorded object when it is still there; else one this instance
    made but never recorded (found by its labels); else create or adopt as the flags
    say (``existing``: the object of that name). Recorded at once: (info, adopted?)."""
    info = present(ctx, api, objects)
    if info is not None:
        ctx.logger.info('%s %s already present; nothing to do', objects.word.capitalize(), name)
        return info, adopted(ctx, objects)
    made = unrecorded(ctx, api, objects)
    if made:
        info, was_adopted = made[0], False
        ctx.logger.info('Reusing %s %s, made by this instance before (not recorded)',
                        objects.word, name)
    else:
        info, was_adopted = ensure(ctx, objects.word, name, flags, existing, create, field,
                                   table, given)
    record(ctx, objects, info, was_adopted)
    return info, was_adopted


def keeps(ctx: Ctx, objects: Objects, flags: Mapping[str, bool]) -> bool:
    """Whether delete leaves this instance's object as it is (adopted, or retained);
    says why when it does."""
    return not should_remove(ctx, objects.word, shown(ctx, objects), adopted(ctx, objects),
                             flags)


def remove_ours(ctx: Ctx, api: EngineApi, objects: Objects) -> list[Info]:
    """Remove the recorded object and every one this instance made but never recorded;
    returns what was removed."""
    ident = recorded_id(ctx, objects)
    targets = [info for info in [objects.inspect(api, ident) if ident else None] if info]
    if ident and not targets:
        ctx.logger.info('%s %s is already gone', objects.word.capitalize(), shown(ctx, objects))
    targets += unrecorded(ctx, api, objects)
    removed = []
    for info in targets:
        if objects.remove(api, info):
            removed.append(info)
            late = '' if objects.ident(info) == ident else \
                ' (made by this instance, not recorded)'
            ctx.logger.info('Removed %s %s%s', objects.word, _name_of(info) or
                            objects.ident(info)[:12], late)
    return removed


def forget(ctx: Ctx, objects: Objects) -> None:
    """Drop every runtime property the kind's lifecycle records."""
    drop(ctx, *objects.keys.all())


def delete(ctx: Ctx, kwargs: Mapping[str, Any], objects: Objects,
           after: Callable[[Any, Info], None] | None = None) -> None:
    """A kind's ``delete``: remove what is ours (unless kept), then forget it;
    ``after(api, info)`` runs for each object removed (to wait for it to be gone)."""
    flags = existing_flags(ctx, kwargs)
    if recorded_id(ctx, objects) and keeps(ctx, objects, flags):
        forget(ctx, objects)
        return
    if flags['retain']:  # nothing recorded, and whatever was made stays
        forget(ctx, objects)
        return
    with engine(ctx, kwargs) as client:
        for info in remove_ours(ctx, client.api, objects):
            if after is not None:
                after(client.api, info)
    forget(ctx, objects)


def status(ctx: Ctx, kwargs: Mapping[str, Any], objects: Objects) -> Info:
    """A kind's ``check_status``: healthy when the recorded object still exists."""
    with engine(ctx, kwargs) as client:
        info = require(ctx, client.api, objects)
    ctx.logger.info('%s %s exists', objects.word.capitalize(), shown(ctx, objects))
    return info


def refresh(ctx: Ctx, kwargs: Mapping[str, Any], objects: Objects) -> Info:
    """A kind's ``pull``: its runtime properties again from the engine."""
    with engine(ctx, kwargs) as client:
        info = require(ctx, client.api, objects)
    persist(ctx, **objects.summarise(info))
    ctx.logger.info('%s %s refreshed from the engine', objects.word.capitalize(),
                    shown(ctx, objects))
    return info


def _name_of(info: Info) -> str:
    name = info.get('Name') or (info.get('Spec') or {}).get('Name') or ''
    return str(name).lstrip('/')


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


def ensure(ctx: Ctx, kind: str, name: str, flags: Mapping[str, bool], existing: Info | None,
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
    mine = existing is not None and is_mine(labels_of(existing), ctx)
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], exists, mine)
    if decision.choice is None:
        raise InvalidInputError(field, f'{kind} {name} {decision.problem}')
    if decision.choice is Choice.CREATE:
        ctx.logger.info('Creating %s %s', kind, name)
        try:
            return create(), False
        except (RefusedError, NotFoundError) as exc:
            config = f'{kind.replace(" ", "_")}_config'
            if table is None:
                raise InvalidInputError(config, f'the engine refused the {kind}: {exc}') \
                    from None
            raise refused(exc, f'the engine refused the {kind}', table,
                          {config: given or {}}, config) from None
    assert existing is not None  # decide adopts or reuses only what exists
    verb = 'Adopting existing' if decision.choice is Choice.ADOPT else 'Reusing'
    ctx.logger.info('%s %s %s', verb, kind, name)
    return existing, decision.choice is Choice.ADOPT


def labels_of(info: Info) -> Mapping[str, str] | None:
    """An object's labels: top level (containers' Config aside: networks, volumes) or in
    its ``Spec`` (swarms, services, secrets, configs)."""
    if 'Labels' in info:
        return info.get('Labels')
    return (info.get('Spec') or {}).get('Labels')


def should_remove(ctx: Ctx, kind: str, name: str, adopted: bool,
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


def record_drift(ctx: Ctx, kind: str, found: Iterable[drift.Difference]) -> list[dict]:
    """Keep the differences (each with its plan) in ``drift`` and log them, one a line."""
    found = list(found)
    listed = [d.as_dict() for d in found]
    persist(ctx, drift=listed)
    if listed:
        ctx.logger.warning('Drift of the %s: %s\n  %s', kind, results.count(len(found),
                                                                           'difference'),
                           '\n  '.join(d.describe() for d in found))
    else:
        ctx.logger.info('No drift: the %s has every declared option', kind)
    return listed


# ------------------------------------------------------------------ plans and previews
def adoption_refusal(ctx: Ctx, kwargs: Mapping[str, Any], objects: Objects) -> str:
    """Why update leaves this instance's object alone: it was adopted and
    ``modify_external_resource`` is not set ('' otherwise)."""
    if adopted(ctx, objects) and not existing_flags(ctx, kwargs)['modify_external_resource']:
        return (f'the {objects.word} was adopted: set modify_external_resource to let update '
                'change it')
    return ''


def planned(strategy: kinds.UpdateStrategy, word: str, found: Iterable[drift.Difference],
            blocked: str = '') -> list[drift.Difference]:
    """Each difference with what update does with it (``plans``): a plan it carries, else
    the one its update mode has under the kind's strategy; every one refused for
    ``blocked`` (the object's reason), or when update goes all or nothing and one is."""
    found = [d if d.plan is not None else
             dataclasses.replace(d, plan=plans.of(strategy, d.update, word)) for d in found]
    whole = blocked or plans.all_or_nothing(strategy, [d.plan for d in found if d.plan],
                                            [d.option for d in found], word)
    if whole:
        found = [dataclasses.replace(d, plan=d.plan.refused(whole)) if d.plan else d
                 for d in found]
    return found


def plan(ctx: Ctx, kwargs: Mapping[str, Any], objects: Objects, found: Iterable[drift.Difference],
         blocked: str = '', guard_adopted: bool = True) -> list[drift.Difference]:
    """``planned`` for a kind's object: refused as a whole when it was adopted (unless
    ``modify_external_resource``; ``guard_adopted`` False for a kind that only ever
    adopts) or for ``blocked``."""
    reason = (adoption_refusal(ctx, kwargs, objects) if guard_adopted else '') or blocked
    return planned(objects.kind.update, objects.word, found, reason)


def refuse(found: Iterable[drift.Difference]) -> None:
    """Update's refusal, in the very words of its plans.

    Raises:
        StateError: some difference is refused (naming each option and why).
    """
    said = plans.refusal((d.option, d.plan) for d in found if d.plan is not None)
    if said:
        raise StateError(said)


def previewed(kwargs: dict[str, Any]) -> bool:
    """Whether update was asked for its plan only (the ``preview`` input of
    ``options.lifecycle.UPDATE``, taken out of the inputs the kind reads).

    Raises:
        InvalidInputError: ``preview`` is not a boolean (naming it).
    """
    given = {name: kwargs.pop(name) for name in UPDATE.names() if name in kwargs}
    return bool(UPDATE.parse(given)['preview'])


def show_plan(ctx: Ctx, strategy: kinds.UpdateStrategy, word: str, name: str,
              found: Iterable[drift.Difference]) -> list[dict[str, Any]]:
    """Log what update would do with each difference of the ``word`` ``name``, and
    return the entries with their plans; nothing is changed or recorded."""
    found = list(found)
    what = f'the {word} {name}'.rstrip()
    if not found:
        ctx.logger.info('Update preview of %s (nothing changed): %s', what,
                        plans.when_clean(strategy, word))
        return []
    counted = collections.Counter(plans.label(d.plan) for d in found if d.plan is not None)
    summary = ', '.join(f'{counted[label]} {label}' for label in plans.LABELS if counted[label])
    refused = plans.refusal((d.option, d.plan) for d in found if d.plan is not None)
    log = ctx.logger.warning if refused else ctx.logger.info
    log('Update preview of %s (nothing changed): %s\n  %s%s', what, summary,
        '\n  '.join(d.describe() for d in found),
        f'\nupdate would fail: {refused}' if refused else '')
    return [d.as_dict() for d in found]


Planner = Callable[[Ctx, Mapping[str, Any]], 'list[drift.Difference]']
Operation = Callable[..., Any]


def preview(objects: Objects, planner: Planner) -> Callable[[Operation], Operation]:
    """A kind's ``update`` with a preview: given ``preview: true``, it runs ``planner``
    (what check_drift finds, each entry with its plan; it reads, never changes) and
    shows the plan instead (``show_plan``); otherwise it updates."""
    return preview_of(objects.kind.update, objects.word, lambda ctx: shown(ctx, objects),
                      planner)


def preview_of(strategy: kinds.UpdateStrategy, word: str, name: Callable[[Ctx], str],
               planner: Planner) -> Callable[[Operation], Operation]:
    """``preview`` for what is not a node kind's object (a relationship's connection)."""
    def decorate(update: Operation) -> Operation:
        @functools.wraps(update)
        def run(ctx: Ctx, **kwargs: Any) -> Any:
            if not previewed(kwargs):
                return update(ctx, **kwargs)
            return show_plan(ctx, strategy, word, name(ctx), planner(ctx, kwargs))
        return run
    return decorate
