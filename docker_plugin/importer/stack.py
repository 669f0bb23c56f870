"""A compose file as a stack: swarm Service, Network, Secret and Config nodes (``--swarm``).

Names follow ``docker stack deploy``'s (``<project>_<key>`` for services,
networks, volumes, secrets and configs) through the ``project_name`` input.
Every node reaches the swarm through the ``manager`` input (the
``daemon_client`` of a manager; default: the local engine). Networks are
overlay unless the file names another driver. A service reaches its networks,
secrets and configs through relationships (``connected_to_network`` with the
service name as an alias, as the docker CLI gives it; ``uses_secret``,
``uses_config``); ``depends_on`` becomes ``depends_on``, and since a Service
node's create waits until its service runs, dependents start after what they
depend on converged (``docker stack deploy`` ignores ``depends_on``). Named
volumes are created by each engine where a task mounts them, as in a stack,
and kept on uninstall (as ``docker stack rm`` keeps them). Everything carries
``com.docker.stack.namespace`` (the project name), as a stack's objects do,
so ``docker stack services <project>`` shows the services.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.importer.blueprint import PROJECT, Builder, Result
from docker_plugin.importer.containers import node_id
from docker_plugin.importer.file_secrets import as_dict
from docker_plugin.importer.stack_services import StackServiceMapping

MANAGER = {'get_input': 'manager'}
NAMESPACE = 'com.docker.stack.namespace'
SECRETS_DIR = '/run/secrets/'
OBJECT_KEYS = {'name', 'file', 'environment', 'content', 'external', 'labels', 'driver',
               'template_driver'}


class StackBuilder(Builder):
    def build(self) -> Result:
        self.inputs.inputs['manager'] = {
            'type': 'dict', 'default': {},
            'description': 'daemon_client of a manager of the swarm (default: the local '
                           'engine, which must be one)'}
        networks = self._networks()
        for node in networks.values():
            properties = self.nodes[node]['properties']
            properties['daemon_client'] = MANAGER
            if not properties.get('use_external_resource'):
                config = properties.setdefault('network_config', {})
                config.setdefault('driver', 'overlay')
                config['labels'] = {**(config.get('labels') or {}), NAMESPACE: PROJECT}
        objects = {kind: self._objects(kind) for kind in ('secrets', 'configs')}
        for name in sorted(self.services):
            self._service(name, networks, objects)
        for key in self.model:
            if key not in ('name', 'services', 'networks', 'volumes', 'secrets', 'configs') \
                    and not key.startswith('x-'):
                self.notes.append(f'{key}: not mapped')
        return self.result()

    # ------------------------------------------------------------------ volumes
    def volume_options(self, key: str) -> dict[str, Any]:
        """A named volume's mount source and options (from the top-level volume)."""
        declared = (self.model.get('volumes') or {}).get(key)
        if declared is None:  # an anonymous or undeclared name: as written
            return {'source': key}
        declared = declared or {}
        out: dict[str, Any] = {'source': self.scoped('volume', key, declared)}
        if not declared.get('external'):
            out['labels'] = {**(declared.get('labels') or {}), NAMESPACE: PROJECT}
        if declared.get('driver') or declared.get('driver_opts'):
            out['driver_config'] = {'name': declared.get('driver') or 'local',
                                    'options': dict(declared.get('driver_opts') or {})}
        for extra in sorted(set(declared) - {'name', 'external', 'labels', 'driver',
                                             'driver_opts'}):
            self.notes.append(f'volumes.{key}.{extra}: not mapped')
        return out

    # ------------------------------------------------------- secrets and configs
    def _objects(self, kind: str) -> dict[str, str]:
        """A Secret or Config node for each declared secret or config a service uses."""
        used = {item.get('source') for s in self.services.values() for item in s.get(kind) or []}
        single = kind[:-1]
        out: dict[str, str] = {}
        by_name: dict[str, str] = {}  # keys that name one swarm object share its node
        for key, item in sorted((self.model.get(kind) or {}).items()):
            item = item or {}
            if key not in used:
                self.notes.append(f'{kind}.{key}: declared but no imported service uses it')
                continue
            name = str(item.get('name') or f'{self.project}_{key}')
            if name in by_name and by_name[name] in out:
                out[key] = out[by_name[name]]
                self.remarks.append(f'{kind}.{key}: the same {single} as {kind}.'
                                    f'{by_name[name]} ({name}): one node ({out[key]})')
                continue
            by_name[name] = key
            properties: dict[str, Any] = {'daemon_client': MANAGER}
            if item.get('external'):
                properties.update(name=item.get('name') or key, use_external_resource=True)
            else:
                properties['name'] = self.scoped(single, key, item)
                if not self._value(kind, key, item, properties):
                    continue
            if not item.get('external'):
                properties['labels'] = {**(item.get('labels') or {}), NAMESPACE: PROJECT}
            if item.get('template_driver') and kind == 'configs':
                properties['templating'] = item['template_driver']
            for extra in sorted(set(item) - OBJECT_KEYS):
                self.notes.append(f'{kind}.{key}.{extra}: not mapped')
            if item.get('driver'):
                self.notes.append(f'{kind}.{key}.driver: not mapped')
            out[key] = node = node_id(f'{single}_', key)
            self.nodes[node] = {'type': kinds.type_name(single),
                                'properties': properties}
        return out

    def _value(self, kind: str, key: str, item: Mapping[str, Any],
               properties: dict[str, Any]) -> bool:
        if item.get('file'):
            path = os.path.relpath(item['file'], self.out_dir)
            if path.startswith('..'):
                self.notes.append(f'{kind}.{key}.file: {item["file"]} is outside the '
                                  'blueprint directory (upload it with the blueprint)')
            properties['file'] = path
        elif item.get('environment'):
            variable = item['environment']
            value = os.environ.get(variable)
            if kind == 'secrets':
                if value is not None:
                    self.inputs.secret_values[variable] = value
                properties['data'] = self.inputs.add(variable, description=(
                    f'secret {key} (from ${variable} in the compose file): not written '
                    'here; give it as an input or from get_secret'), secret=True)
            else:
                properties['data'] = self.inputs.add(variable, value,
                                                     f'config {key} (${variable})')
        elif item.get('content') is not None and kind == 'configs':
            properties['data'] = str(item['content'])
        else:
            self.notes.append(f'{kind}.{key}: no file, environment or content')
            return False
        return True

    # ------------------------------------------------------------------ services
    def _service(self, name: str, networks: Mapping[str, str],
                 objects: Mapping[str, Mapping[str, str]]) -> None:
        service = self.services[name]
        mapping = StackServiceMapping(name, service, self.volume_options).map()
        self.notes += mapping.notes
        config = mapping.config
        config['labels'] = {**(config.get('labels') or {}), NAMESPACE: PROJECT}
        for mount in config.get('mounts', []):
            if mount['type'] == 'bind':
                mount['source'] = self.host_path(mount['source'])
        self._image(name, service, config)
        raw = as_dict(((self.source.raw.get('services') or {}).get(name) or {})
                      .get('environment'))
        plain, secret = self.inputs.environment(name, as_dict(service.get('environment')), raw)
        if plain:
            config['env'] = plain
        if secret:
            config['secret_env'] = secret
        relationships = self._networks_of(name, service, networks)
        for kind in ('secrets', 'configs'):
            relationships += self._files_of(name, service, kind, objects[kind])
        for dep in sorted(service.get('depends_on') or {}):
            if dep in self.services:
                relationships.append({'type': 'cloudify.relationships.depends_on',
                                      'target': node_id('', dep)})
            else:
                self.notes.append(f'services.{name}.depends_on.{dep}: not imported')
        node = node_id('', name)
        entry: dict[str, Any] = {'type': kinds.type_name('service'), 'properties': {
            'daemon_client': MANAGER, 'name': {'concat': [PROJECT, f'_{name}']},
            'service_config': config}}
        if relationships:
            entry['relationships'] = relationships
        self.nodes[node] = entry
        self.outputs[f'{node}_service'] = {'value': {'get_attribute': [node, 'service_name']}}
        if config.get('ports'):
            self.outputs[f'{node}_ports'] = {'value': {'get_attribute': [node, 'ports']}}

    def _image(self, name: str, service: Mapping[str, Any], config: dict[str, Any]) -> None:
        if service.get('build'):
            self.notes.append(f'services.{name}.build: not mapped (a swarm runs images from '
                              'a registry: build and push it, then give the image)')
        if service.get('image'):
            config['image'] = service['image']
        else:
            config['image'] = self.inputs.add(f'{name}_image', description=(
                f'the registry reference of the image of service {name} (the compose file '
                'only builds it)'))
        if service.get('pull_policy') == 'never':
            config['resolve_image'] = 'never'
        elif service.get('pull_policy') not in (None, 'always', 'missing', 'if_not_present',
                                                'build'):
            self.notes.append(f'services.{name}.pull_policy: {service["pull_policy"]} is not '
                              'mapped')

    def _networks_of(self, name: str, service: Mapping[str, Any],
                     networks: Mapping[str, str]) -> list[dict[str, Any]]:
        if service.get('network_mode'):
            self.notes.append(f'services.{name}.network_mode: not mapped (a swarm service '
                              'joins overlay networks)')
            return []
        out = []
        for key, options in sorted((service.get('networks') or {}).items()):
            options = options or {}
            properties: dict[str, Any] = {'aliases': [name, *(a for a in options.get(
                'aliases') or [] if a != name)]}
            if options.get('driver_opts'):
                properties['driver_opt'] = dict(options['driver_opts'])
            for extra in sorted(set(options) - {'aliases', 'driver_opts', 'priority'}):
                self.notes.append(f'services.{name}.networks.{key}.{extra}: not mapped (the '
                                  'swarm gives the addresses)')
            out.append({'type': kinds.relationship('connected_to_network').type_name,
                        'target': networks[key], 'properties': properties})
        return out

    def _files_of(self, name: str, service: Mapping[str, Any], kind: str,
                  nodes: Mapping[str, str]) -> list[dict[str, Any]]:
        out = []
        for item in service.get(kind) or []:
            source = item.get('source')
            if source not in nodes:
                continue  # noted with the top-level object
            target = item.get('target') or source
            if kind == 'secrets' and target.startswith(SECRETS_DIR):
                target = target[len(SECRETS_DIR):]
            properties: dict[str, Any] = {'target': target}
            for key in ('uid', 'gid'):
                if item.get(key) is not None:
                    properties[key] = str(item[key])
            if item.get('mode') is not None:
                mode = item['mode']
                properties['mode'] = int(mode, 8) if isinstance(mode, str) else int(mode)
            out.append({'type': kinds.relationship(f'uses_{kind[:-1]}').type_name,
                        'target': nodes[source], 'properties': properties})
        return out
