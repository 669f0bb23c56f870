"""The nodes of the blueprint: networks, volumes, images, containers and their relationships.

Names follow compose's (``<project>_<network>``, ``<project>_<volume>``,
``<project>-<service>``) through the ``project_name`` input, so two
deployments of one blueprint do not collide. ``depends_on`` becomes a
``cloudify.relationships.depends_on`` plus a readiness wait on the service
depended on (``service_healthy``: ``wait_for: healthy``;
``service_completed_successfully``: ``wait_for: exited`` with code 0); a
service with a healthcheck is waited for as ``up --wait`` would.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping

from docker_plugin.importer.containers import ServiceMapping, node_id
from docker_plugin.importer.services import container_node
from docker_plugin.importer.source import Source
from docker_plugin.importer.variables import Inputs

PROJECT = {'get_input': 'project_name'}
NETWORK_KEYS = {'name', 'external', 'driver', 'driver_opts', 'internal', 'attachable',
                'enable_ipv6', 'ipam', 'labels'}
VOLUME_KEYS = {'name', 'external', 'driver', 'driver_opts', 'labels'}
BUILD_KEYS = {'context': 'path', 'dockerfile': 'dockerfile', 'args': 'buildargs',
              'target': 'target', 'labels': 'labels', 'no_cache': 'nocache', 'pull': 'pull',
              'network': 'network_mode', 'cache_from': 'cache_from',
              'extra_hosts': 'extra_hosts', 'shm_size': 'shmsize'}
WAITS = {'service_healthy': {'condition': 'healthy'},
         'service_completed_successfully': {'condition': 'exited', 'exit_code': 0}}


def unescape(value: Any) -> Any:
    """Compose's ``$$`` (a literal ``$`` in its output) as the value containers get."""
    if isinstance(value, str):
        return value.replace('$$', '$')
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape(v) for v in value]
    return value


class Builder:
    def __init__(self, source: Source, out_dir: str, secrets_mode: str = 'inputs',
                 wait_timeout: int = 120, directory_default: str | None = None):
        self.source = source
        self.directory_default = directory_default or source.directory
        self.model = unescape(source.model)
        self.project = str(self.model.get('name') or 'project')
        self.out_dir = out_dir
        self.wait_timeout = wait_timeout
        self.inputs = Inputs(secrets_mode)
        self.inputs.inputs['project_name'] = {
            'type': 'string', 'default': self.project,
            'description': 'compose project name: networks, volumes and containers start '
                           'with it'}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, Any] = {}
        self.notes: list[str] = [f'services.{s}: not imported (its profiles are not enabled)'
                                 for s in source.inactive]
        self.services = dict(self.model.get('services') or {})

    # ------------------------------------------------------------------ names
    def scoped(self, kind: str, key: str, item: Mapping[str, Any]) -> Any:
        name = item.get('name') or key
        if item.get('external') or name != f'{self.project}_{key}':
            return name
        return {'concat': [PROJECT, f'_{key}']}

    def host_path(self, bind: str) -> Any:
        """A bind mount whose host path is in the project directory, through the
        ``project_directory`` input (the files are where the engine runs)."""
        base = self.source.directory.rstrip('/')
        source = bind.split(':', 1)[0]
        if source != base and not source.startswith(f'{base}/'):
            return bind
        self.inputs.inputs.setdefault('project_directory', {
            'type': 'string', 'default': self.directory_default,
            'description': "where the compose project's files are on the engine's host (bind "
                           'mounts, file secrets and configs)'})
        return {'concat': [{'get_input': 'project_directory'}, bind[len(base):]]}

    def container_name(self, service: str) -> Any:
        given = self.services[service].get('container_name')
        return given or {'concat': [PROJECT, f'-{service}']}

    # ------------------------------------------------------------------ build
    def build(self) -> Result:
        mapped = {name: ServiceMapping(name, svc).map() for name, svc in self.services.items()}
        for mapping in mapped.values():
            self.notes += mapping.notes
        networks = self._networks()
        volumes = self._volumes({m['volume'] for s in mapped.values()
                                 for m in s.named_volumes})
        waits = self._waits()
        for name in sorted(self.services):
            container_node(self, name, mapped[name], networks, volumes, waits.get(name))
        for key in self.model:
            if key not in ('name', 'services', 'networks', 'volumes', 'secrets', 'configs') \
                    and not key.startswith('x-'):
                self.notes.append(f'{key}: not mapped')
        return Result(self.inputs.inputs, self.nodes, self.outputs, self.notes,
                      self.inputs.secret_values)

    def _networks(self) -> dict[str, str]:
        used = {n for s in self.services.values() for n in (s.get('networks') or {})}
        return self._top_level('network', used, 'no imported service uses it', NETWORK_KEYS,
                             _network_config)

    def _volumes(self, used: set[str]) -> dict[str, str]:
        return self._top_level('volume', used, 'no imported service mounts it', VOLUME_KEYS,
                             lambda item: {k: item[k] for k in ('driver', 'driver_opts',
                                                                'labels') if item.get(k)})

    def _top_level(self, kind: str, used: set[str], unused: str, keys: set[str],
                 config_of: Any) -> dict[str, str]:
        """Network or Volume nodes for the compose file's top-level ``networks``/``volumes``
        that services use: (compose key -> node id)."""
        out = {}
        for key, item in sorted((self.model.get(f'{kind}s') or {}).items()):
            item = item or {}
            if key not in used:
                self.notes.append(f'{kind}s.{key}: declared but {unused}')
                continue
            out[key] = node = node_id(f'{kind}_', key)
            properties: dict[str, Any] = {'name': self.scoped(kind, key, item)}
            if item.get('external'):
                properties['use_external_resource'] = True
            elif config := config_of(item):
                properties[f'{kind}_config'] = config
            for extra in set(item) - keys:
                self.notes.append(f'{kind}s.{key}.{extra}: not mapped')
            self.nodes[node] = {'type': f'cloudify.nodes.docker.{kind.capitalize()}',
                                'properties': properties}
        return out

    def _waits(self) -> dict[str, dict[str, Any]]:
        """The readiness wait of each service others depend on (and of each healthcheck)."""
        waits: dict[str, dict[str, Any]] = {}
        for name, service in sorted(self.services.items()):
            check = service.get('healthcheck') or {}
            if check.get('test') and not check.get('disable') and check['test'] != ['NONE']:
                waits[name] = dict(WAITS['service_healthy'])
        for name, service in sorted(self.services.items()):
            for dep, how in (service.get('depends_on') or {}).items():
                wait = WAITS.get((how or {}).get('condition', ''))
                if wait and waits.get(dep, wait) != wait:
                    self.notes.append(f'services.{name}.depends_on.{dep}: {dep} is waited for '
                                      f'as {waits[dep]["condition"]} for another service')
                elif wait:
                    waits[dep] = dict(wait)
                for extra in ('restart',):
                    if (how or {}).get(extra):
                        self.notes.append(f'services.{name}.depends_on.{dep}.{extra}: not '
                                          'mapped')
                if (how or {}).get('required') is False:
                    self.notes.append(f'services.{name}.depends_on.{dep}.required: false is '
                                      'mapped as required')
        return {k: {**v, 'timeout': self.wait_timeout} for k, v in waits.items()}

    def image(self, name: str, service: Mapping[str, Any]) -> str | None:
        """The Image node of a service's build (None without one)."""
        build = service.get('build')
        if not build:
            return None
        node = node_id('', name) + '_image'
        options: dict[str, Any] = {}
        for key, value in build.items():
            if key in BUILD_KEYS and value not in (None, '', [], {}):
                options[BUILD_KEYS[key]] = value
            elif key not in BUILD_KEYS:
                self.notes.append(f'services.{name}.build.{key}: not mapped')
        context = os.path.relpath(options['path'], self.out_dir)
        if context.startswith('..'):
            self.notes.append(f'services.{name}.build.context: {options["path"]} is outside '
                              'the blueprint directory (upload it with the blueprint)')
        options['path'] = context
        options['buildargs'] = {k: v for k, v in (options.get('buildargs') or {}).items()
                                if v is not None} or None
        options['tag'] = service.get('image') or {'concat': [PROJECT, f'-{name}']}
        self.nodes[node] = {'type': 'cloudify.nodes.docker.Image', 'properties': {
            'image_build': {k: v for k, v in options.items() if v is not None}}}
        return node


@dataclasses.dataclass
class Result:
    """What the builder made: the blueprint's parts, the notes, the secrets it saw."""

    inputs: dict[str, Any]
    nodes: dict[str, Any]
    outputs: dict[str, Any]
    notes: list[str]
    secret_values: dict[str, str]


def _network_config(item: Mapping[str, Any]) -> dict[str, Any]:
    """A compose network's settings as ``network_config``."""
    config = {k: item[k] for k in ('driver', 'internal', 'attachable', 'enable_ipv6', 'labels')
              if item.get(k)}
    if item.get('driver_opts'):
        config['options'] = item['driver_opts']
    ipam = {k: v for k, v in (item.get('ipam') or {}).items() if v}
    if ipam:
        config['ipam'] = ipam
    return config
