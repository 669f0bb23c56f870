"""Image nodes: one per distinct image the services build or pull.

Services that name the same image (NetBox's worker and housekeeping run the
app's image; Airflow's services share one from an ``x-`` block) share one
``cloudify.nodes.docker.Image`` node, and every container that uses it has a
``uses_image`` relationship to it: the image is made (built or pulled) once,
before any of its containers, and removed only after all of them, by
construction. An image some service builds is built once, from the first
such service's ``build`` (as compose, which pulls nothing another service
builds); services that build the same context without naming an image (compose
names each ``<project>-<service>``) share one build, tagged with each name.

A pulled image is kept on uninstall (``keep_locally``), as ``docker compose
down`` keeps it; a built one is removed, as ``down --rmi local`` removes it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.importer.containers import node_id

PROJECT = {'get_input': 'project_name'}
BUILD_KEYS = {'context': 'path', 'dockerfile': 'dockerfile', 'args': 'buildargs',
              'target': 'target', 'labels': 'labels', 'no_cache': 'nocache', 'pull': 'pull',
              'network': 'network_mode', 'cache_from': 'cache_from',
              'extra_hosts': 'extra_hosts', 'shm_size': 'shmsize'}
# compose pull_policy -> the Image node's image_pull.policy
PULL = {None: 'missing', 'missing': 'missing', 'if_not_present': 'missing',
        'always': 'always', 'never': 'never'}
# pull_policy values that say nothing more for an image a service builds
BUILT = (None, 'build', 'missing', 'if_not_present')


def normalised(reference: str) -> str:
    """One spelling per image: ``docker.io/library/redis`` and ``redis:latest`` are one."""
    name = reference
    for prefix in ('docker.io/', 'index.docker.io/', 'registry-1.docker.io/'):
        if name.startswith(prefix):
            name = name[len(prefix):]
            if name.startswith('library/'):
                name = name[len('library/'):]
    last = name.rsplit('/', 1)[-1]
    return name if '@' in name or ':' in last else f'{name}:latest'


def _key(service: Mapping[str, Any]) -> tuple[str, str] | None:
    if service.get('image'):
        return 'image', normalised(str(service['image']))
    if service.get('build'):
        return 'build', json.dumps(service['build'], sort_keys=True)
    return None


def _service_tag(name: str) -> dict[str, Any]:
    return {'concat': [PROJECT, f'-{name}']}


def image_nodes(builder: Any) -> dict[str, str]:
    """Image nodes for every distinct image: ``{service: node id}`` (a service with
    neither image nor build has none)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in sorted(builder.services):
        key = _key(builder.services[name])
        if key is not None:
            groups.setdefault(key, []).append(name)
    out: dict[str, str] = {}
    for names in groups.values():
        node = node_id('', names[0]) + '_image'
        while node in builder.services or node in builder.nodes:
            node += '_'
        builds = [n for n in names if builder.services[n].get('build')]
        properties = _built(builder, builds, names) if builds else _pulled(builder, names)
        builder.nodes[node] = {'type': kinds.type_name('image'), 'properties': properties}
        out.update(dict.fromkeys(names, node))
        if len(names) > 1:
            what = builder.services[names[0]].get('image') or 'the same build'
            end = 'built once, removed after all their containers' if builds else \
                'pulled once if missing, kept on uninstall as compose down keeps it'
            builder.remarks.append(f'services {", ".join(names)} use {what}: one Image node '
                                   f'({node}) for all of them, {end}')
    return out


def _built(builder: Any, builds: list[str], names: list[str]) -> dict[str, Any]:
    first = builds[0]
    service = builder.services[first]
    for other in builds[1:]:
        if builder.services[other]['build'] != service['build'] and service.get('image'):
            builder.notes.append(f'services.{other}.build: image {service["image"]} is built '
                                 f'once, from services.{first}.build (this one differs)')
    for name in names:
        policy = builder.services[name].get('pull_policy')
        if policy not in BUILT:
            builder.notes.append(f'services.{name}.pull_policy: {policy} is not mapped for a '
                                 'built image')
    options: dict[str, Any] = {}
    for key, value in service['build'].items():
        if key in BUILD_KEYS and value not in (None, '', [], {}):
            options[BUILD_KEYS[key]] = value
        elif key not in BUILD_KEYS:
            builder.notes.append(f'services.{first}.build.{key}: not mapped')
    context = os.path.relpath(options['path'], builder.out_dir)
    if context.startswith('..'):
        builder.notes.append(f'services.{first}.build.context: {options["path"]} is outside '
                             'the blueprint directory (upload it with the blueprint)')
    options['path'] = context
    options['buildargs'] = {k: v for k, v in (options.get('buildargs') or {}).items()
                            if v is not None} or None
    options['tag'] = service.get('image') or _service_tag(first)
    properties: dict[str, Any] = {'image_build': {k: v for k, v in options.items()
                                                  if v is not None}}
    if not service.get('image') and len(names) > 1:
        properties['tags'] = [_service_tag(name) for name in names[1:]]
    return properties


def _pulled(builder: Any, names: list[str]) -> dict[str, Any]:
    reference = builder.services[names[0]]['image']
    policies = {n: builder.services[n].get('pull_policy') for n in names}
    given = sorted({p for p in policies.values() if p is not None})
    policy = given[0] if len(given) == 1 else None
    if len(given) > 1:
        builder.notes.append(f'services.{names[0]}.pull_policy: services using {reference} '
                             f'say {", ".join(given)}: pulled when missing')
    elif policy not in PULL:
        builder.notes.append(f'services.{names[0]}.pull_policy: {policy} is not mapped (pulled '
                             'when missing)')
    return {'image_pull': {'repository': reference, 'policy': PULL.get(policy, 'missing')},
            'keep_locally': True}
