"""Operations of ``cloudify.nodes.docker.Secret`` and ``cloudify.nodes.docker.Config``.

The value comes from ``data`` (inline text, e.g. ``get_secret``) or ``file``
(relative to the blueprint); it is remembered as a secret before anything
is logged, and never kept. The object is named ``<name>-<fingerprint>``.
Secrets and configs cannot change: ``update`` with a new value makes a new
object, moves every service using the old one to it (a rolling update,
waited for), then removes the old one. With ``use_external_resource`` the
object named ``name`` exactly is used as it is.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from docker_plugin import kinds, secrets
from docker_plugin.errors import InvalidInputError, NotFoundError, RefusedError
from docker_plugin.options.base import OptionTable, Update
from docker_plugin.options.swarm import CONFIG, MAX_OBJECT_BYTES, SECRET
from docker_plugin.resources import drift
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import objects as swarm_objects
from docker_plugin.resources.swarm import services
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.confine import check_read, read_file
from docker_plugin.tasks.context import (
    content_key,
    engine,
    existing_flags,
    object_name,
    persist,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation
from docker_plugin.tasks.service import converge as service_waiting

TABLES: dict[str, OptionTable] = {'secret': SECRET, 'config': CONFIG}


def _objects(kind: str) -> objects.Objects:
    return objects.Objects(
        kinds.node(kind),
        inspect=lambda api, ident: swarm_objects.inspect(api, kind, ident),
        find_by_labels=lambda api, labels: swarm_objects.find_by_labels(api, kind, labels),
        remove=lambda api, info: swarm_objects.remove(api, kind, info['ID']),
        summarise=lambda info: swarm_objects.summarise(kind, info))


OBJECTS = {kind: _objects(kind) for kind in TABLES}


def _values(ctx: Ctx, kwargs: Any, kind: str) -> dict[str, Any]:
    table = TABLES[kind]
    raw = {o.name: resolve_input(ctx, kwargs, o.name, default='') for o in table}
    return table.parse({k: v for k, v in raw.items() if v not in ('', {}, [])}, '')


def _one_value(values: dict[str, Any], kind: str) -> None:
    if values.get('data') and values.get('file'):
        raise InvalidInputError('file', 'give data or file, not both')
    if not values.get('data') and not values.get('file'):
        raise InvalidInputError('data', f"required: the {kind}'s value (data) or a file")


def _content(ctx: Ctx, values: dict[str, Any], kind: str) -> bytes:
    _one_value(values, kind)
    if values.get('file'):
        data = read_file(ctx, values['file'], 'file', MAX_OBJECT_BYTES)
        secrets.remember(data.decode('utf-8', errors='replace'))
        return data
    return values['data'].encode()


def _planned(ctx: Ctx, kwargs: Any, kind: str) -> None:
    """What create checks before the engine, for validation: the options, the name, and
    one value (data, or a file the blueprint may read) unless the object is adopted."""
    values = _values(ctx, kwargs, kind)
    object_name(ctx, kwargs)
    if existing_flags(ctx, kwargs)['use_external_resource']:
        return
    _one_value(values, kind)
    if values.get('file'):
        check_read(ctx, values['file'], 'file')


def secret_planned(ctx: Ctx, kwargs: Any) -> None:
    _planned(ctx, kwargs, 'secret')


def config_planned(ctx: Ctx, kwargs: Any) -> None:
    _planned(ctx, kwargs, 'config')


def _make(api: EngineApi, kind: str, name: str, data: bytes, labels: dict[str, str],
          values: dict[str, Any]) -> str:
    """Create the object; what the engine refuses names the option it is about (a
    driver or templating it lacks: 'plugin ... not found'), else the name."""
    try:
        return swarm_objects.create(api, kind, name, data, labels, values)
    except (RefusedError, NotFoundError) as exc:
        given = {k: v for k, v in values.items() if k != 'data' and v not in (None, '', {}, [])}
        raise objects.refused(exc, f'the engine refused the {kind}', TABLES[kind], {'': given},
                              'name') from None


def _create(ctx: Ctx, kwargs: Any, kind: str) -> None:
    values = _values(ctx, kwargs, kind)
    if values.get('file'):
        check_read(ctx, values['file'], 'file')
    flags = existing_flags(ctx, kwargs)
    base = object_name(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        api = client.api
        TABLES[kind].check_api(values, api.api_version, '')
        if objects.present(ctx, api, OBJECTS[kind]) is not None:
            ctx.logger.info('%s %s already present; nothing to do', kind.capitalize(),
                            objects.shown(ctx, OBJECTS[kind]))
            return
        if flags['use_external_resource']:
            found = swarm_objects.find(api, kind, base)
            if found is None:
                raise InvalidInputError('name', f'{kind} {base} does not exist, and '
                                                'use_external_resource is set')
            ctx.logger.info('Adopting existing %s %s', kind, base)
            persist(ctx, base_name=base)
            objects.record(ctx, OBJECTS[kind], found, True)
            return
        # A new value is a new object, named after a fingerprint of it: made again after a
        # crash, the same value finds the object this instance made (the key is kept first).
        data = _content(ctx, values, kind)
        name = swarm_objects.versioned_name(base, data, content_key(ctx))
        labels = {**(values.get('labels') or {}), **resource_labels(ctx)}
        object_id = _make(api, kind, name, data, labels, values)
        persist(ctx, base_name=base)
        objects.record(ctx, OBJECTS[kind], swarm_objects.inspect(api, kind, object_id) or {},
                       False)
    ctx.logger.info('Created %s %s', kind, name)


def _delete(ctx: Ctx, kwargs: Any, kind: str) -> None:
    """Every version this instance made goes (they all carry its labels)."""
    objects.delete(ctx, kwargs, OBJECTS[kind])


def _status(ctx: Ctx, kwargs: Any, kind: str) -> None:
    objects.status(ctx, kwargs, OBJECTS[kind])


def _pull(ctx: Ctx, kwargs: Any, kind: str) -> None:
    objects.refresh(ctx, kwargs, OBJECTS[kind])


def _drift(ctx: Ctx, kwargs: Any, api: EngineApi, kind: str,
           values: dict[str, Any]) -> tuple[objects.Info, list, str, bytes]:
    """(inspect, differences, the name the values give, their content); ``values`` are
    the validated properties (read before the state and the engine)."""
    props = ctx.instance.runtime_properties
    info = objects.require(ctx, api, OBJECTS[kind])
    if objects.adopted(ctx, OBJECTS[kind]):
        return info, [], info['Spec']['Name'], b''
    data = _content(ctx, values, kind)
    name = swarm_objects.versioned_name(props.get('base_name') or object_name(ctx, kwargs),
                                        data, content_key(ctx))
    found = []
    if name != info['Spec']['Name']:
        found.append(drift.Difference('data', 'Spec.Name', 'a new value', 'the value of '
                                      f'{info["Spec"]["Name"]}', Update.NEW_VERSION))
    declared = {'labels': values['labels']} if values.get('labels') else {}
    found += drift.differences(TABLES[kind], declared, {'Spec': {'Labels': values.get(
        'labels')}}, info)
    return info, objects.plan(ctx, kwargs, OBJECTS[kind], found), name, data


def _planner(kind: str) -> objects.Planner:
    def plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
        values = _values(ctx, kwargs, kind)
        with engine(ctx, kwargs) as client:
            return _drift(ctx, kwargs, client.api, kind, values)[1]
    return plan


PLANS = {kind: _planner(kind) for kind in TABLES}


def _check_drift(ctx: Ctx, kwargs: Any, kind: str) -> list[dict[str, Any]]:
    return objects.record_drift(ctx, kind, PLANS[kind](ctx, kwargs))


def _update(ctx: Ctx, kwargs: Any, kind: str) -> list[dict[str, Any]]:
    values = _values(ctx, kwargs, kind)
    with engine(ctx, kwargs) as client:
        api = client.api
        old, found, name, data = _drift(ctx, kwargs, api, kind, values)
        if not found:
            return objects.record_drift(ctx, kind, found)
        objects.refuse(found)
        labels = {**(values.get('labels') or {}), **resource_labels(ctx)}
        new_id = _make(api, kind, name, data, labels, values)
        ctx.logger.info('%s %s: new version %s', kind.capitalize(), old['Spec']['Name'], name)
        for service in swarm_objects.users(api, kind, old['ID']):
            _move(ctx, api, kind, service, old['ID'], new_id, name)
        made = swarm_objects.inspect(api, kind, new_id) or {}
        persist(ctx, **swarm_objects.summarise(kind, made))
        swarm_objects.remove(api, kind, old['ID'])
        _, remaining, _, _ = _drift(ctx, kwargs, api, kind, values)
    return objects.record_drift(ctx, kind, remaining)


def _move(ctx: Ctx, api: EngineApi, kind: str, service: str, old_id: str, new_id: str,
          new_name: str) -> None:
    """Point a service at the new version and wait for its rolling update, held in this
    worker; the wait resumes when passing trouble made Cloudify retry the operation."""
    info = services.require(api, service)
    settings = {**service_waiting.options(ctx, {}), 'wait': True, 'async': False}
    name = f'move_{info["ID"][:12]}'
    state = service_waiting.pending(ctx, name)
    if state is None:
        spec = copy.deepcopy(info['Spec'])
        key, title = ('Secrets', 'Secret') if kind == 'secret' else ('Configs', 'Config')
        for ref in spec['TaskTemplate']['ContainerSpec'].get(key) or []:
            if ref.get(f'{title}ID') == old_id:
                ref[f'{title}ID'], ref[f'{title}Name'] = new_id, new_name
        ctx.logger.info('Moving service %s to %s %s', spec.get('Name'), kind, new_name)
        before = services.update(api, info['ID'], spec)
        state = service_waiting.begin(ctx, name, before, spec, settings)
    service_waiting.converge(ctx, api, info['ID'], state, settings, name)


@operation
def secret_create(ctx: Ctx, **kwargs: Any) -> None:
    """Secret node create: make the secret (or find it, or adopt one)."""
    _create(ctx, kwargs, 'secret')


@operation
def secret_delete(ctx: Ctx, **kwargs: Any) -> None:
    """Secret node delete: remove every version this instance made (unless adopted/retained)."""
    _delete(ctx, kwargs, 'secret')


@operation
def secret_check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Secret node check_status: the recorded secret exists."""
    _status(ctx, kwargs, 'secret')


@operation
def secret_check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Secret node check_drift: a changed value or labels (never shown), each with what
    update does with it; kept in ``drift``."""
    return _check_drift(ctx, kwargs, 'secret')


@operation
@objects.preview(OBJECTS['secret'], PLANS['secret'])
def secret_update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Secret node update: a new version, its services moved to it, the old one removed.
    ``preview: true``: the plan only."""
    return _update(ctx, kwargs, 'secret')


@operation
def secret_pull(ctx: Ctx, **kwargs: Any) -> None:
    """Secret node ``pull``: refresh its name and labels from the engine (never the value)."""
    _pull(ctx, kwargs, 'secret')


@operation
def config_create(ctx: Ctx, **kwargs: Any) -> None:
    """Config node create: make the config (or find it, or adopt one)."""
    _create(ctx, kwargs, 'config')


@operation
def config_delete(ctx: Ctx, **kwargs: Any) -> None:
    """Config node delete: remove every version this instance made (unless adopted/retained)."""
    _delete(ctx, kwargs, 'config')


@operation
def config_check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Config node check_status: the recorded config exists."""
    _status(ctx, kwargs, 'config')


@operation
def config_check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Config node check_drift: a changed value or labels (never shown), each with what
    update does with it; kept in ``drift``."""
    return _check_drift(ctx, kwargs, 'config')


@operation
@objects.preview(OBJECTS['config'], PLANS['config'])
def config_update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Config node update: a new version, its services moved to it, the old one removed.
    ``preview: true``: the plan only."""
    return _update(ctx, kwargs, 'config')


@operation
def config_pull(ctx: Ctx, **kwargs: Any) -> None:
    """Config node ``pull``: refresh its name and labels from the engine (never the value)."""
    _pull(ctx, kwargs, 'config')
