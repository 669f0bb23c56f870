"""The nodes of the blueprint: networks, volumes, images, containers and their relationships.

Names follow compose's (``<project>_<network>``, ``<project>_<volume>``,
``<project>-<service>``) through the ``project_name`` input, so two
deployments of one blueprint do not collide. ``depends_on`` becomes a
``cloudify.relationships.depends_on`` plus a readiness wait on the service
depended on (``service_healthy``: ``wait_for: healthy``;
``service_completed_successfully``: ``wait_for: exited`` with code 0); every
other service is waited for as ``up --wait`` would, and better (``wait_for:
ready``: running, healthy when its healthcheck, the file's or the image's,
says so, or completed).
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds, records
from docker_plugin.importer import values
from docker_plugin.importer.containers import ServiceMapping, node_id
from docker_plugin.importer.images import image_nodes
from docker_plugin.importer.services import container_node
from docker_plugin.importer.source import Source
from docker_plugin.importer.variables import Inputs, strings

PROJECT = {'get_input': 'project_name'}
NETWORK_KEYS = {'name', 'external', 'driver', 'driver_opts', 'internal', 'attachable',
                'enable_ipv6', 'ipam', 'labels'}
VOLUME_KEYS = {'name', 'external', 'driver', 'driver_opts', 'labels'}
WAITS: dict[str, dict[str, Any]] = {'service_healthy': {'condition': 'healthy'},
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
        self.remarks: list[str] = []  # what it decided for the user, to review
        self.services = dict(self.model.get('services') or {})
        self.image_nodes: dict[str, str] = {}  # service -> its Image node
        self.inputs.found.taken |= {'project_name', 'project_directory', 'manager'}
        self.inputs.found.collect(self.model, source.raw)

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
        self.image_nodes = image_nodes(self)
        for name in sorted(self.services):
            container_node(self, name, mapped[name], networks, volumes, waits.get(name))
        for key in self.model:
            if key not in ('name', 'services', 'networks', 'volumes', 'secrets', 'configs') \
                    and not key.startswith('x-'):
                self.notes.append(f'{key}: not mapped')
        return self.result()

    def result(self) -> Result:
        """The nodes and outputs with every secret made an input (``Inputs.protect``).

        Raises:
            SecretInKey: a secret is in a mapping's key, where no input can stand.
        """
        self.nodes = self.inputs.protect(self.nodes)
        self.outputs = self.inputs.protect(self.outputs)
        self.remarks += self.inputs.finish()
        self.remarks += self.inputs.words_written(dict(strings(self.nodes)))
        for name, secret in sorted(self.inputs.used.items()):
            if len(secret.places) > 1:
                self.remarks.append(f'input {name}: one secret value written in '
                                    f'{len(secret.places)} places of the file (kept equal)')
        return Result(self.inputs.inputs, self.nodes, self.outputs, self.notes,
                      self.inputs.secret_values, self.remarks)

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
        that services use: (compose key -> node id). Keys that name one Docker object
        (``name:``) share one node, as compose makes the object once."""
        out: dict[str, str] = {}
        by_name: dict[str, str] = {}  # Docker name -> the key whose node makes it
        for key, item in sorted((self.model.get(f'{kind}s') or {}).items()):
            item = item or {}
            if key not in used:
                self.notes.append(f'{kind}s.{key}: declared but {unused}')
                continue
            name = str(item.get('name') or f'{self.project}_{key}')
            if name in by_name:
                out[key] = out[by_name[name]]
                self.remarks.append(f'{kind}s.{key}: the same {kind} as {kind}s.'
                                    f'{by_name[name]} ({name}): one node ({out[key]})')
                continue
            by_name[name] = key
            out[key] = node = node_id(f'{kind}_', key)
            properties: dict[str, Any] = {'name': self.scoped(kind, key, item)}
            if item.get('external'):
                properties['use_external_resource'] = True
            elif config := config_of(item):
                properties[f'{kind}_config'] = config
            for extra in set(item) - keys:
                self.notes.append(f'{kind}s.{key}.{extra}: not mapped')
            self.nodes[node] = {'type': kinds.type_name(kind),
                                'properties': properties}
        return out

    def _waits(self) -> dict[str, dict[str, Any]]:
        """The readiness wait of every service: what others wait for (healthy, or exited
        0), else ready as ``up --wait`` and better (running; healthy when a healthcheck,
        the file's or the image's, says so; or completed: ``resources.completion``)."""
        waits: dict[str, dict[str, Any]] = {}
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
        for name, service in sorted(self.services.items()):
            check = service.get('healthcheck')
            if isinstance(check, dict) and not check.get('test') and not check.get('disable'):
                self.remarks.append(f'services.{name}: no healthcheck test in the file: waits '
                                    "until healthy if its image defines a healthcheck (as "
                                    'up --wait does), else until running')
            waits.setdefault(name, {'condition': 'ready'})
        out = {}
        for name, wait in waits.items():
            timeout = self.wait_timeout
            needed = values.healthcheck_seconds((self.services.get(name) or {}).get(
                'healthcheck') or {}) if wait['condition'] != 'exited' else None
            if needed and needed > timeout:
                timeout = needed
                self.remarks.append(f'services.{name}: waits up to {needed}s, as long as its '
                                    'healthcheck may take to decide (start period, retries '
                                    'intervals, a timeout)')
            out[name] = {**wait, 'timeout': timeout}
        return out


@records.record
class Result:
    """What the builder made: the blueprint's parts, what it could not map (``notes``),
    what it decided that a user should review (``remarks``), the secrets it saw."""

    inputs: dict[str, Any]
    nodes: dict[str, Any]
    outputs: dict[str, Any]
    notes: list[str]
    secret_values: dict[str, str]
    remarks: list[str] = records.field(default_factory=list)


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
