"""The one lifecycle every kind shares: create or adopt, record at once, find what was
made but not recorded, delete only what is ours, status, drift and refresh.

The rules, for every kind alike:

* ``docker_plugin.adoption.decide`` says whether to create or adopt, by the flags and by
  who made an object of the name (its labels, ``maker``): one that carries this very
  node instance's labels (a retried or resumed create) is reused, never adopted and
  never made twice; one an earlier run of this deployment's node made, that no live
  instance of the deployment holds (the install run again: after a failure, an
  interruption, or with its state lost), is *claimed*: taken as made by this deployment,
  so uninstall removes it. A claimed object that differs from what is declared (where
  the kind can tell) is made again, unless its kind holds data (``UpdateStrategy.REFUSE``)
  or something uses it: then the install stops at once, saying what differs and what to
  do. Other objects an earlier run of the node left (another name) are removed at
  create when nothing uses them and they hold no data; the rest wait for uninstall;
* what is made or adopted is recorded the moment the engine answers, with
  one vocabulary of runtime properties (``docker_plugin.kinds.Keys``: the
  kind's id and name keys, ``adopted``, ``drift``);
* on delete, what was adopted stays unless ``delete_adopted`` is set, and
  ``retain`` keeps even what the deployment made; otherwise the recorded
  object goes, and so does every object carrying this instance's labels that
  was never recorded (a crash right after the engine answered); in the ``uninstall``
  workflow (every instance of the node goes), so does everything this deployment's node
  made that no live instance holds (earlier runs');
* an instance that never reached its engine made nothing there: when the engine does
  not answer, its delete finishes without it (``engine_to_clean``);
* ``check_status`` fails when the recorded object is gone; ``pull`` records
  it again from the engine; drift is kept in ``drift``.

A kind describes how to reach its objects with an ``Objects`` (resource
functions) and writes only what is its own.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import re
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from docker_plugin import kinds, plans, records, results
from docker_plugin.adoption import Choice, Maker, decide, removes
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
    UnreachableError,
)
from docker_plugin.options.base import OptionTable
from docker_plugin.options.lifecycle import UPDATE
from docker_plugin.options.refusals import blame
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks.context import (
    DEPLOYMENT_LABEL,
    INSTANCE_LABEL,
    NODE_LABEL,
    drop,
    engine,
    existing_flags,
    made_nothing,
    node_labels,
    persist,
    recorded,
)
from docker_plugin.tasks.ctx import Ctx

Info = Mapping[str, Any]
TAGGED = kinds.TAGGED  # Cloudify's own mark of an adopted resource
ADOPTED = 'adopted'


@records.record(frozen=True)
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


# Whether each instance of a node lives, as an execution asked in this process (the
# latest few): (execution, node) -> {instance: live}.
_LIVE: collections.OrderedDict[tuple[str, str], dict[str, bool]] = collections.OrderedDict()
_LIVE_KEPT = 64  # (execution, node) pairs
_LIVE_LOCK = threading.Lock()


def _keep(table: collections.OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Keep ``value`` under ``key``, dropping the oldest beyond ``_LIVE_KEPT`` (the
    caller holds ``_LIVE_LOCK``)."""
    table[key] = value
    while len(table) > _LIVE_KEPT:
        table.popitem(last=False)


def live(ctx: Ctx, instance_id: str) -> bool | None:
    """Whether the deployment has the node instance ``instance_id`` of this node now
    (None: Cloudify cannot tell). Locally the storage answers, on a manager its REST
    service; an install run again with ``cfy install`` (new state) or a deployment made
    again with the same id has new instances: the earlier ones are not there.

    The node's instances are asked for at once, and the answers kept for the
    execution in this process: an uninstall's sweep in each of N instances otherwise
    asks about every other one (N² look-ups; on a manager, REST calls). Kept answers
    cannot mislead: no instance of the node comes to be within an execution once its
    operations run, and one still taken as live after it went removed its own objects
    (the sweep only leaves them to it)."""
    if instance_id == ctx.instance.id:
        return True
    if not instance_id:
        return False
    execution = str(getattr(ctx, 'execution_id', None) or '')
    if execution:
        key = (execution, str(ctx.node.id))
        with _LIVE_LOCK:
            known = _LIVE.get(key)
        if known is None:
            from docker_plugin.tasks import deployment  # only where a sweep asks
            try:
                states = deployment.instance_states(ctx)
            except Exception:  # noqa: BLE001 - asked one by one below
                states = None
            if states is not None:
                known = {ident: state != 'deleted' for ident, state in states.items()}
                with _LIVE_LOCK:
                    _keep(_LIVE, key, known)
        if known is not None:
            return known.get(instance_id, False)
    endpoint = getattr(ctx, '_endpoint', None)
    get = getattr(endpoint, 'get_node_instance', None)
    if get is None:
        return None
    try:
        instance = get(instance_id)
    except (KeyError, FileNotFoundError):  # local storages: no such instance
        return False
    except Exception as exc:  # noqa: BLE001 - the manager's 404, else unknown
        return False if getattr(exc, 'status_code', None) == 404 else None
    return getattr(instance, 'state', None) != 'deleted'


def maker(ctx: Ctx, labels: Mapping[str, str] | None) -> tuple[Maker, str]:
    """Who made an object, by its labels, and who holds it (for messages)."""
    labels = labels or {}
    if labels.get(DEPLOYMENT_LABEL) != str(ctx.deployment.id or ''):
        return Maker.NONE, ''
    holder = str(labels.get(INSTANCE_LABEL) or '')
    if not holder or not labels.get(NODE_LABEL):
        return Maker.NONE, ''  # labelled by hand (or by a tool), not by a node of it
    if holder == str(ctx.instance.id):
        return Maker.INSTANCE, f'node instance {holder}'
    if labels.get(NODE_LABEL) != str(ctx.node.id or ''):
        return Maker.HELD, f'node {labels.get(NODE_LABEL) or "?"} (instance {holder})'
    if live(ctx, holder) is False:
        return Maker.EARLIER_RUN, f'node instance {holder}'
    return Maker.HELD, f'node instance {holder}'


def uninstalling(ctx: Ctx) -> bool:
    """Whether the operation runs in the ``uninstall`` workflow: every instance of every
    node goes (a heal or a scale-down takes only some)."""
    return getattr(ctx, 'workflow_id', None) == 'uninstall'


def _holder(info: Info) -> str:
    return str((labels_of(info) or {}).get(INSTANCE_LABEL) or '')


def node_objects(ctx: Ctx, api: EngineApi, objects: Objects) -> Sequence[Info]:
    """Everything of the kind this deployment's node made, any instance, any run."""
    return objects.find_by_labels(api, node_labels(ctx))


def unrecorded(ctx: Ctx, api: EngineApi, objects: Objects,
               found: Sequence[Info] | None = None) -> list[Info]:
    """Objects that carry this very instance's labels but are not the recorded one."""
    ident = recorded_id(ctx, objects)
    found = node_objects(ctx, api, objects) if found is None else found
    return [info for info in found
            if _holder(info) == str(ctx.instance.id) and objects.ident(info) != ident]


def earlier_run(ctx: Ctx, info: Info, unknown: bool) -> bool:
    """Whether an object of this deployment's node was made by an instance the deployment
    no longer has (an earlier run's); ``unknown``: what to say when Cloudify cannot tell
    (at create, held; in an uninstall, where every instance goes, gone)."""
    holder = _holder(info)
    if holder == str(ctx.instance.id):
        return False
    alive = live(ctx, holder)
    return alive is False or (alive is None and unknown)


def leftovers(ctx: Ctx, objects: Objects, found: Sequence[Info],
              keep: Iterable[str] = ()) -> list[Info]:
    """Of ``found`` (this node's objects), those an earlier run made and no live instance
    holds (an unknown one counts as held), but the ones in ``keep`` (idents)."""
    kept = set(keep)
    return [info for info in found
            if objects.ident(info) not in kept and earlier_run(ctx, info, unknown=False)]


def clear_leftovers(ctx: Ctx, api: EngineApi, objects: Objects, found: Sequence[Info],
                    keep: Iterable[str] = ()) -> None:
    """At create: remove what an earlier run of this node left under other names, when
    the kind holds no data and nothing uses it; say what stays (uninstall removes it)."""
    left = leftovers(ctx, objects, found, keep)
    stays = []
    for info in left:
        shown_as = _name_of(info) or objects.ident(info)[:12]
        if objects.kind.update is kinds.UpdateStrategy.REFUSE:
            stays.append(f'{shown_as} (it may hold data)')
            continue
        try:
            if objects.remove(api, info):
                ctx.logger.info('Removed %s %s, left by an earlier run of this deployment '
                                '(node instance %s)', objects.word, shown_as, _holder(info))
        except StateError as exc:
            stays.append(f'{shown_as} ({exc})')
    if stays:
        ctx.logger.warning('Left by an earlier run of this deployment and kept until '
                           'uninstall: %s %s', objects.word, '; '.join(stays))


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
                  given: Mapping[str, Any] | None = None,
                  differs: Callable[[Info], Sequence[drift.Difference]] | None = None
                  ) -> tuple[Info, bool]:
    """``create``: the recorded object when it is still there; else one this instance
    made but never recorded (found by its labels); else create, adopt or claim as the
    flags and the makers say (``existing``: the object of that name; ``differs``: how
    it differs from what is declared, for one an earlier run made), after removing what
    earlier runs of the node left under other names. Recorded at once: (info, adopted?)."""
    info = present(ctx, api, objects)
    if info is not None:
        ctx.logger.info('%s %s already present; nothing to do', objects.word.capitalize(), name)
        return info, adopted(ctx, objects)
    found = node_objects(ctx, api, objects)
    made = unrecorded(ctx, api, objects, found)
    if made:
        info, was_adopted = made[0], False
        ctx.logger.info('Reusing %s %s, made by this instance before (not recorded)',
                        objects.word, name)
    else:
        clear_leftovers(ctx, api, objects, found,
                        [objects.ident(existing)] if existing is not None else [])
        remove = None if objects.kind.update is kinds.UpdateStrategy.REFUSE else \
            (lambda old: objects.remove(api, old))
        info, was_adopted = ensure(ctx, objects.word, name, flags, existing, create, field,
                                   table, given, differs, remove)
    record(ctx, objects, info, was_adopted)
    return info, was_adopted


def keeps(ctx: Ctx, objects: Objects, flags: Mapping[str, bool]) -> bool:
    """Whether delete leaves this instance's object as it is (adopted, or retained);
    says why when it does."""
    return not should_remove(ctx, objects.word, shown(ctx, objects), adopted(ctx, objects),
                             flags)


def remove_ours(ctx: Ctx, api: EngineApi, objects: Objects) -> list[Info]:
    """Remove the recorded object, every one this instance made but never recorded, and,
    in the ``uninstall`` workflow, every one an earlier run of this deployment's node made
    that no live instance holds (a live one removes its own); returns what was removed."""
    ident = recorded_id(ctx, objects)
    targets = [info for info in [objects.inspect(api, ident) if ident else None] if info]
    if ident and not targets:
        ctx.logger.info('%s %s is already gone', objects.word.capitalize(), shown(ctx, objects))
    sweep = uninstalling(ctx) and _sweeps(ctx, objects)
    try:
        found = node_objects(ctx, api, objects) if sweep else \
            objects.find_by_labels(api, {**node_labels(ctx), INSTANCE_LABEL: str(ctx.instance.id)})
        targets += unrecorded(ctx, api, objects, found)
        if sweep:
            targets += [info for info in found if objects.ident(info) != ident and
                        earlier_run(ctx, info, unknown=True)]
        removed = _remove_found(ctx, api, objects, ident, targets)
    except BaseException:
        if sweep:
            _unclaim_sweep(ctx, objects)  # a retry here sweeps again
        raise
    return removed


# (execution, node, kind) whose uninstall sweep for earlier runs' objects this process
# has made (or is making): what an earlier run left cannot appear during the uninstall,
# so one instance's sweep serves every instance of the node here. A process of its own
# per operation (a manager) sweeps in each.
_SWEPT: collections.OrderedDict[tuple[str, str, str], bool] = collections.OrderedDict()


def _sweep_key(ctx: Ctx, objects: Objects) -> tuple[str, str, str]:
    return str(getattr(ctx, 'execution_id', None) or ''), str(ctx.node.id), objects.word


def _sweeps(ctx: Ctx, objects: Objects) -> bool:
    """Whether this delete looks for what earlier runs of the node left (claims the
    sweep of its execution and node in this process; without an execution, always)."""
    key = _sweep_key(ctx, objects)
    if not key[0]:
        return True
    with _LIVE_LOCK:
        if key in _SWEPT:
            return False
        _keep(_SWEPT, key, True)
    return True


def _unclaim_sweep(ctx: Ctx, objects: Objects) -> None:
    with _LIVE_LOCK:
        _SWEPT.pop(_sweep_key(ctx, objects), None)


def _remove_found(ctx: Ctx, api: EngineApi, objects: Objects, ident: str | None,
                  targets: list[Info]) -> list[Info]:
    removed = []
    for info in targets:
        if objects.remove(api, info):
            removed.append(info)
            holder = _holder(info)
            late = '' if objects.ident(info) == ident else \
                ' (made by this instance, not recorded)' if holder == str(ctx.instance.id) \
                else f' (left by an earlier run of this deployment: node instance {holder})'
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
    with engine_to_clean(ctx, kwargs) as client:
        if client is not None:
            for info in remove_ours(ctx, client.api, objects):
                if after is not None:
                    after(client.api, info)
    forget(ctx, objects)


@contextlib.contextmanager
def engine_to_clean(ctx: Ctx, kwargs: Mapping[str, Any]) -> Iterator[Any]:
    """The engine, for a delete; None when this instance made nothing on any engine
    (``made_nothing``) and its engine does not answer or its settings are not valid:
    said in a warning, and the delete finishes (an engine found gone within the block,
    its API version known and so nothing asked at connect, ends the block the same way:
    the caller's code after it still runs).

    An instance that reached its engine may have made something it did not record (a
    create the engine answered as the operation died): its delete needs the engine, and
    an engine that does not answer fails it, within ``daemon_client.unreachable_timeout``.
    """
    if not made_nothing(ctx):
        with engine(ctx, kwargs) as client:
            yield client
        return
    entered = False
    try:
        with engine(ctx, kwargs) as client:
            entered = True
            yield client
    except (UnreachableError, InvalidInputError) as exc:
        if entered and not isinstance(exc, UnreachableError):
            raise  # the block's own mistake, not the engine's
        why = f'No Docker engine answers at {exc.address} ({exc.field}{exc.note}: ' \
              f'{exc.reason})' if isinstance(exc, UnreachableError) else \
            f'The Docker engine settings are not valid ({exc})'
        ctx.logger.warning(
            '%s, and this node instance never reached an engine, so it made nothing there: '
            'nothing to remove. What other runs of this deployment made carries the label '
            '%s=%s.', why, DEPLOYMENT_LABEL, ctx.deployment.id)
        if not entered:
            yield None


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
    """An object's name in inspect data or in a listing (containers list theirs in
    ``Names``, images in ``RepoTags``)."""
    name = info.get('Name') or (info.get('Spec') or {}).get('Name') or \
        next(iter(info.get('Names') or []), '') or \
        next((t for t in info.get('RepoTags') or [] if t != '<none>:<none>'), '')
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
           given: Mapping[str, Any] | None = None,
           differs: Callable[[Info], Sequence[drift.Difference]] | None = None,
           remove: Callable[[Info], Any] | None = None) -> tuple[Info, bool]:
    """Create the object, adopt or claim the existing one, as the flags and its maker
    say: (info, adopted?).

    ``existing`` is the object's whole inspect data (what is adopted or reused is
    recorded from it); its labels are at ``Labels``, or at ``Spec.Labels`` for
    swarm objects. ``field`` is what a wrong choice of the flags is blamed on;
    what the engine refuses to create (an unknown driver, bad options) is the
    option of ``<kind>_config`` it is about (``given``, by ``table``), or
    ``<kind>_config`` as a whole. An object an earlier run of this node made is
    claimed as it is, unless ``differs`` finds it unlike its declaration: then it is
    removed (``remove``) and made again, or, with no ``remove`` (it holds data) or
    when it is in use, the install stops saying what differs.
    """
    exists = existing is not None
    made_by, holder = maker(ctx, labels_of(existing)) if existing is not None else \
        (Maker.NONE, '')
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], exists, made_by, holder)
    if decision.choice is None:
        raise InvalidInputError(field, f'{kind} {name} {decision.problem}')

    def make() -> Info:
        ctx.logger.info('Creating %s %s', kind, name)
        try:
            return create()
        except (RefusedError, NotFoundError) as exc:
            config = f'{kind.replace(" ", "_")}_config'
            if table is None:
                raise InvalidInputError(config, f'the engine refused the {kind}: {exc}') \
                    from None
            raise refused(exc, f'the engine refused the {kind}', table,
                          {config: given or {}}, config) from None

    if decision.choice is Choice.CREATE:
        return make(), False
    assert existing is not None  # decide adopts, reuses or claims only what exists
    if decision.choice is Choice.CLAIM:
        return claim(ctx, kind, name, existing, holder, make, differs, remove), False
    verb = 'Adopting existing' if decision.choice is Choice.ADOPT else 'Reusing'
    ctx.logger.info('%s %s %s', verb, kind, name)
    return existing, decision.choice is Choice.ADOPT


def claim(ctx: Ctx, kind: str, name: str, existing: Info, holder: str,
          make: Callable[[], Info],
          differs: Callable[[Info], Sequence[drift.Difference]] | None,
          remove: Callable[[Info], Any] | None) -> Info:
    """Take what an earlier run of this deployment's node made as this instance's own;
    made again when it differs from what is declared, if it may be."""
    found = list(differs(existing)) if differs is not None else []
    earlier = f'an earlier run of this deployment made it ({holder}, which the deployment ' \
              'no longer has)'
    if not found:
        ctx.logger.info("Claiming %s %s: %s; it is this deployment's, removed on uninstall",
                        kind, name, earlier)
        return existing
    what = '; '.join(d.describe() for d in found)
    if remove is None:
        raise StateError(f'{kind} {name}: {earlier}, and it differs from what is declared '
                         f'({what}); it is not made again, as it may hold data: declare it '
                         f'as it is, or remove it (it is this deployment\'s), then run the '
                         'install again')
    ctx.logger.info('Making %s %s again: %s, and it differs from what is declared (%s)',
                    kind, name, earlier, what)
    try:
        remove(existing)
    except StateError as exc:
        raise StateError(f'{kind} {name}: {earlier}, and it differs from what is declared '
                         f'({what}), but it cannot be made again: {exc}') from None
    return make()


def labels_of(info: Info) -> Mapping[str, str] | None:
    """An object's labels: top level (networks, volumes, and containers and images as
    listed), in its ``Config`` (containers and images as inspected) or in its ``Spec``
    (swarms, services, secrets, configs)."""
    if 'Labels' in info:
        return info.get('Labels')
    if isinstance(info.get('Config'), Mapping) and 'Labels' in info['Config']:
        return info['Config'].get('Labels')
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
             records.replace(d, plan=plans.of(strategy, d.update, word)) for d in found]
    whole = blocked or plans.all_or_nothing(strategy, [d.plan for d in found if d.plan],
                                            [d.option for d in found], word)
    if whole:
        found = [records.replace(d, plan=d.plan.refused(whole)) if d.plan else d
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
