"""What a compose project looks like on the engine, read through the SDK.

Compose labels what it makes with ``com.docker.compose.project`` (and the
service, container number and configuration hash); one container list call
filtered by that label gives every container's state, health, addresses and
ports. From the normalised model (``config --format json``) this module
derives what should be there: the services (a subset and what it depends
on) and how many containers each; and compares the two for ``check_drift``
(``compose_readiness`` says whether they are ready).

What changed in the files is named by service and key: at each ``up`` the
project keeps a fingerprint of every key of every service (``fingerprints``:
an HMAC under the instance's key, ``docker_plugin.fingerprints``; a mapping
key such as ``environment`` one entry at a time), never the values, which may
hold interpolated secrets; drift compares them with the files now. A
container whose configuration hash is not the files' while no key changed
since the last ``up`` was changed outside the deployment. Every difference
says what ``update`` (``compose up``) does with it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from docker_plugin import fingerprints as keyed
from docker_plugin.errors import InvalidInputError, engine_call
from docker_plugin.options.base import Update
from docker_plugin.plans import Action, Plan
from docker_plugin.resources import published
from docker_plugin.resources.drift import Difference
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.images import inspect_image

PROJECT = 'com.docker.compose.project'
SERVICE = 'com.docker.compose.service'
NUMBER = 'com.docker.compose.container-number'
HASH = 'com.docker.compose.config-hash'
ONEOFF = 'com.docker.compose.oneoff'
_EXITED = re.compile(r'Exited \((-?\d+)\)')
_HEALTH = re.compile(r'\((healthy|unhealthy|health: starting)\)')


def containers(api: EngineApi, project: str) -> list[dict[str, Any]]:
    """The project's service containers (``compose run`` one-offs left out)."""
    with engine_call(f'list containers of compose project {project}'):
        found = api.containers(all=True, filters={'label': [f'{PROJECT}={project}']})
    return [c for c in found if (c.get('Labels') or {}).get(ONEOFF, 'False') != 'True']


def labelled(api: EngineApi, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Containers of any project carrying every given label."""
    with engine_call('list compose containers by label'):
        found = api.containers(all=True, filters={'label': [
            PROJECT, *(f'{k}={v}' for k, v in labels.items())]})
    return list(found)


def objects(api: EngineApi, project: str) -> dict[str, list[str]]:
    """Names of the project's networks and volumes on the engine."""
    label = {'label': [f'{PROJECT}={project}']}
    with engine_call(f'list networks and volumes of compose project {project}'):
        networks = [n['Name'] for n in api.networks(filters=label)]
        volumes = [v['Name'] for v in (api.volumes(filters=label) or {}).get('Volumes') or []]
    return {'networks': sorted(networks), 'volumes': sorted(volumes)}


def describe(container: Mapping[str, Any]) -> dict[str, Any]:
    """One container as runtime properties show it."""
    labels = container.get('Labels') or {}
    status = str(container.get('Status') or '')
    health = _HEALTH.search(status)
    exited = _EXITED.search(status)
    networks = {name: net.get('IPAddress') or '' for name, net in
                ((container.get('NetworkSettings') or {}).get('Networks') or {}).items()}
    name = ((container.get('Names') or ['?'])[0]).lstrip('/')
    return {'id': container.get('Id', ''), 'name': name,
            'number': int(labels.get(NUMBER) or 0) if str(labels.get(NUMBER, '')).isdigit()
            else 0,
            'state': container.get('State', ''),
            'health': health.group(1).replace('health: ', '') if health else '',
            'exit_code': int(exited.group(1)) if exited else None,
            'ip': next((ip for ip in networks.values() if ip), ''),
            'networks': networks, 'ports': published.from_list(container.get('Ports'))}


def by_service(found: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``{service: [container, ...]}`` ordered by container number."""
    out: dict[str, list[dict[str, Any]]] = {}
    for container in found:
        service = (container.get('Labels') or {}).get(SERVICE, '?')
        out.setdefault(service, []).append(describe(container))
    return {s: sorted(c, key=lambda i: (i['number'], i['name'])) for s, c in sorted(out.items())}


def expected(model: Mapping[str, Any], selected: Iterable[str] = (),
             scale: Mapping[str, int] | None = None) -> dict[str, int]:
    """``{service: container count}`` that ``up`` makes (a subset pulls its dependencies in)."""
    services = model.get('services') or {}
    wanted = list(selected) or list(services)
    todo, seen = list(wanted), set()
    while todo:
        name = todo.pop()
        if name in seen or name not in services:
            continue
        seen.add(name)
        todo += list(services[name].get('depends_on') or {})
    counts = {}
    for name in sorted(seen):
        service = services[name]
        replicas = ((service.get('deploy') or {}).get('replicas'))
        count = (scale or {}).get(name, service.get('scale', replicas if replicas is not None
                                                    else 1))
        counts[name] = int(count)
    return counts


def to_pull(api: EngineApi, model: Mapping[str, Any], wanted: Iterable[str],
            always: bool) -> list[str]:
    """The services whose image is pulled (not built): every one, or those missing here.

    ``compose pull --policy missing`` asks the registry even for an image that
    is present (seen with 2.40.3 and an image that has no repo digest); this
    asks the engine instead.
    """
    services = model.get('services') or {}
    pulled = [s for s in wanted if services.get(s, {}).get('image')
              and not services[s].get('build')]
    if always:
        return pulled
    return [s for s in pulled if inspect_image(api, services[s]['image']) is None]


def check_selection(model: Mapping[str, Any], opts: Mapping[str, Any], field: str) -> None:
    """The project has services to run, and every one ``services``/``scale`` names;
    ``field`` holds the project (``compose_files`` or ``definition``)."""
    known = set(model.get('services') or {})
    if not known:
        raise InvalidInputError(field, 'the project has no service to run (none defined, or '
                                       'none in the profiles given)')
    for index, name in enumerate(opts['services']):
        if name not in known:
            raise InvalidInputError(f'services[{index}]', f'no service {name!r} in the project '
                                    f'(it has {", ".join(sorted(known)) or "none"})')
    for name in opts['scale']:
        if name not in known:
            raise InvalidInputError(f'scale.{name}', f'no service {name!r} in the project')


def describe_project(summary: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    """One line per container, for a person: service, name, state, address, ports."""
    lines = []
    for service, items in summary.items():
        for item in items:
            health = f' ({item["health"]})' if item['health'] else ''
            ports = ', '.join(f'{port} -> {b["host_ip"] or "0.0.0.0"}:{b["host_port"]}'
                              for port, bound in item['ports'].items() for b in bound or [])
            lines.append(f'{service}: {item["name"]} {item["state"]}{health} '
                         f'{item["ip"] or "-"}{f", ports {ports}" if ports else ""}')
    return lines


def fingerprints(model: Mapping[str, Any], key: str,
                 directory: str = '') -> dict[str, dict[str, str]]:
    """``{service: {key: fingerprint}}`` of the project as the files give it: every key
    of every service, a mapping's entries one at a time (``environment.API_KEY``),
    the project directory written as ``.`` (on a manager the files are downloaded
    anew for each operation)."""
    out: dict[str, dict[str, str]] = {}
    for name, service in (model.get('services') or {}).items():
        keys: dict[str, str] = {}
        for option, value in (service if isinstance(service, Mapping) else {}).items():
            value = _relative(value, directory)
            if isinstance(value, Mapping) and value:
                for entry, item in value.items():
                    keys[f'{option}.{entry}'] = keyed.of_value(item, key)
            else:
                keys[str(option)] = keyed.of_value(value, key)
        out[str(name)] = keys
    return out


def _relative(value: Any, directory: str) -> Any:
    if not directory:
        return value
    if isinstance(value, str):
        return value.replace(directory, '.')
    if isinstance(value, Mapping):
        return {k: _relative(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, directory) for v in value]
    return value


# Keys compose applies to the running containers without making them again.
SCALING = ('scale', 'deploy.replicas')
AGAIN = "compose up makes the service's containers again"
CHANGES = {'changed': ('changed in the files', 'as at the last up'),
           'added': ('added in the files', 'not there at the last up'),
           'removed': ('removed from the files', 'there at the last up')}


def changed_keys(before: Mapping[str, str], now: Mapping[str, str]) -> dict[str, str]:
    """``{key: 'changed' | 'added' | 'removed'}`` between two fingerprints of a service."""
    out = {k: 'changed' for k in before if k in now and before[k] != now[k]}
    out.update({k: 'added' for k in now if k not in before})
    out.update({k: 'removed' for k in before if k not in now})
    return dict(sorted(out.items()))


def drift(found: Iterable[Mapping[str, Any]], hashes: Mapping[str, str],
          wanted: Mapping[str, int], model: Mapping[str, Any],
          present: Mapping[str, list[str]],
          recorded: Mapping[str, Mapping[str, str]] | None = None,
          now: Mapping[str, Mapping[str, str]] | None = None,
          remove_orphans: bool = False) -> list[Difference]:
    """Where the running project differs from its files, each with what ``compose up``
    does with it.

    The keys of a service that changed since the last ``up`` (``recorded`` against
    ``now``: ``fingerprints``); a container whose configuration hash is not the files'
    for another reason; a service with the wrong number of containers; a container of
    a service the files no longer have (or not selected); a network or volume the
    project defines that is gone. Values are never shown: they may be secret.
    """
    out: list[Difference] = []
    keys_changed: set[str] = set()
    if recorded is not None and now is not None:
        for service in sorted(wanted):
            if service not in recorded:
                continue
            for key, how in changed_keys(recorded[service], now.get(service) or {}).items():
                keys_changed.add(service)
                plan = Plan(Action.IN_PLACE, 'compose up starts or removes containers') \
                    if key in SCALING else Plan(Action.RECREATE, AGAIN)
                desired, actual = CHANGES[how]
                out.append(Difference(f'services.{service}.{key}', f'services.{service}.{key}',
                                      desired, actual, Update.RECREATE, plan))
    seen: dict[str, int] = {}
    for container in found:
        labels = container.get('Labels') or {}
        service = labels.get(SERVICE, '?')
        name = ((container.get('Names') or ['?'])[0]).lstrip('/')
        seen[service] = seen.get(service, 0) + 1
        if service not in wanted:
            out.append(_orphan(service, name, service in (model.get('services') or {}),
                               remove_orphans))
        elif service in hashes and labels.get(HASH) != hashes[service] and \
                service not in keys_changed:
            known = recorded is not None and service in recorded
            out.append(Difference(
                f'services.{service}', f'containers.{name}.config_hash',
                'the configuration the files give', 'another configuration (changed outside '
                'this deployment)' if known else 'another configuration (which keys: '
                'not known before an up by this plugin)', Update.RECREATE,
                Plan(Action.RECREATE, AGAIN)))
    for service, count in sorted(wanted.items()):
        have = seen.get(service, 0)
        if have != count:
            plan = Plan(Action.RECREATE, 'compose up makes the missing containers') \
                if have < count else Plan(Action.IN_PLACE, 'compose up removes the extra '
                                                           'containers')
            out.append(Difference(f'services.{service}', 'containers', count, have,
                                  Update.RECREATE, plan))
    for kind in ('networks', 'volumes'):
        for key, item in sorted((model.get(kind) or {}).items()):
            item = item if isinstance(item, dict) else {}
            name = item.get('name') or key
            if not item.get('external') and _used(model, kind, key) and \
                    name not in present.get(kind, []):
                out.append(Difference(f'{kind}.{key}', name, 'present', 'missing',
                                      Update.RECREATE,
                                      Plan(Action.RECREATE, 'compose up creates it')))
    return out


def _orphan(service: str, container: str, in_files: bool, remove_orphans: bool) -> Difference:
    """A container of a service that is not (or no longer) part of what ``up`` runs."""
    if in_files:
        why, plan = 'not selected', Plan(Action.REFUSE, '', 'compose up runs only the '
                                         'services selected (services): add it there, or '
                                         'remove the container by hand', fails=False)
    elif remove_orphans:
        why, plan = 'not in the files', Plan(Action.RECREATE, 'compose up removes it '
                                             '(remove_orphans)')
    else:
        why, plan = 'not in the files', Plan(Action.REFUSE, '', 'compose up leaves the '
                                             'containers of services the files no longer '
                                             'have: set remove_orphans', fails=False)
    return Difference(f'services.{service}', f'containers.{container}', None, why,
                      Update.RECREATE, plan)


def _used(model: Mapping[str, Any], kind: str, key: str) -> bool:
    """Compose makes only the networks and volumes some service uses."""
    for service in (model.get('services') or {}).values():
        if kind == 'networks' and key in (service.get('networks') or {}):
            return True
        if kind == 'volumes' and any(v.get('type') == 'volume' and v.get('source') == key
                                     for v in service.get('volumes') or []):
            return True
    return False
