"""What a compose project looks like on the engine, read through the SDK.

Compose labels what it makes with ``com.docker.compose.project`` (and the
service, container number and configuration hash); one container list call
filtered by that label gives every container's state, health, addresses and
ports. From the normalised model (``config --format json``) this module
derives what should be there: the services (a subset and what it depends
on) and how many containers each; and compares the two for ``check_drift``
(``compose_readiness`` says whether they are ready).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from docker_plugin.errors import InvalidInputError, engine_call
from docker_plugin.options.base import Update
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
    ports: dict[str, list[dict[str, Any]]] = {}
    for port in container.get('Ports') or []:
        key = f'{port.get("PrivatePort")}/{port.get("Type", "tcp")}'
        entries = ports.setdefault(key, [])
        if port.get('PublicPort'):
            entries.append({'host_ip': port.get('IP', ''), 'host_port': port['PublicPort']})
    name = ((container.get('Names') or ['?'])[0]).lstrip('/')
    return {'id': container.get('Id', ''), 'name': name,
            'number': int(labels.get(NUMBER) or 0) if str(labels.get(NUMBER, '')).isdigit()
            else 0,
            'state': container.get('State', ''),
            'health': health.group(1).replace('health: ', '') if health else '',
            'exit_code': int(exited.group(1)) if exited else None,
            'ip': next((ip for ip in networks.values() if ip), ''),
            'networks': networks, 'ports': ports}


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
                              for port, bound in item['ports'].items() for b in bound)
            lines.append(f'{service}: {item["name"]} {item["state"]}{health} '
                         f'{item["ip"] or "-"}{f", ports {ports}" if ports else ""}')
    return lines


def drift(found: Iterable[Mapping[str, Any]], hashes: Mapping[str, str],
          wanted: Mapping[str, int], model: Mapping[str, Any],
          present: Mapping[str, list[str]]) -> list[Difference]:
    """Where the running project differs from its files.

    A container whose configuration hash is not the file's, a service with
    the wrong number of containers, a container of a service the files no
    longer have, and a network or volume the project defines that is gone.
    """
    out: list[Difference] = []
    seen: dict[str, int] = {}
    for container in found:
        labels = container.get('Labels') or {}
        service = labels.get(SERVICE, '?')
        name = ((container.get('Names') or ['?'])[0]).lstrip('/')
        seen[service] = seen.get(service, 0) + 1
        if service not in wanted:
            why = 'not selected' if service in (model.get('services') or {}) else \
                'not in the files'
            out.append(Difference(f'services.{service}', f'containers.{name}', None, why,
                                  Update.RECREATE))
        elif service in hashes and labels.get(HASH) != hashes[service]:
            out.append(Difference(f'services.{service}', f'containers.{name}.config_hash',
                                  hashes[service][:12], str(labels.get(HASH, ''))[:12],
                                  Update.RECREATE))
    for service, count in sorted(wanted.items()):
        if seen.get(service, 0) != count:
            out.append(Difference(f'services.{service}', 'containers', count,
                                  seen.get(service, 0), Update.RECREATE))
    for kind in ('networks', 'volumes'):
        for key, item in sorted((model.get(kind) or {}).items()):
            item = item if isinstance(item, dict) else {}
            name = item.get('name') or key
            if not item.get('external') and _used(model, kind, key) and \
                    name not in present.get(kind, []):
                out.append(Difference(f'{kind}.{key}', name, 'present', 'missing',
                                      Update.RECREATE))
    return out


def _used(model: Mapping[str, Any], kind: str, key: str) -> bool:
    """Compose makes only the networks and volumes some service uses."""
    for service in (model.get('services') or {}).values():
        if kind == 'networks' and key in (service.get('networks') or {}):
            return True
        if kind == 'volumes' and any(v.get('type') == 'volume' and v.get('source') == key
                                     for v in service.get('volumes') or []):
            return True
    return False
