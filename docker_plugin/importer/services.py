"""One compose service as a ``cloudify.nodes.docker.Container`` node with its relationships.

Its image (``uses_image`` to the Image node it shares with every service that
uses the same image: ``images``), environment (inputs and secrets), networks
(``connected_to_network`` with the service name as an alias, as compose
gives it), named volumes (``mounts_volume``), file secrets and configs (read
-only bind mounts where compose puts them), ``depends_on``,
``network_mode: service:x`` and ``volumes_from``, and its replicas as the
node's instances.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds
from docker_plugin.importer.containers import ServiceMapping, node_id
from docker_plugin.importer.file_secrets import as_dict

PROJECT = {'get_input': 'project_name'}
ENDPOINT_KEYS = {'aliases': 'aliases', 'ipv4_address': 'ipv4_address',
                 'ipv6_address': 'ipv6_address', 'link_local_ips': 'link_local_ips',
                 'driver_opts': 'driver_opt'}


def _name_of(builder: Any, service: str, prefix: str = '', suffix: str = '') -> Any:
    """A container name (with text around it), flat enough for one ``concat``."""
    name = builder.container_name(service)
    if isinstance(name, str):
        return f'{prefix}{name}{suffix}'
    return {'concat': [p for p in [prefix, *name['concat'], suffix] if p != '']}


def _files(builder: Any, name: str, service: Mapping[str, Any], kind: str) -> list[str]:
    """File-backed secrets or configs as read-only binds where compose mounts them."""
    binds = []
    top = builder.model.get(kind) or {}
    for index, item in enumerate(service.get(kind) or []):
        source = item.get('source')
        declared = top.get(source) or {}
        where = f'services.{name}.{kind}[{index}]'
        if not declared.get('file'):
            how = next((k for k in ('content', 'environment', 'external') if declared.get(k)),
                       'unknown')
            builder.notes.append(f'{where}: a {kind[:-1]} from {how} is not mapped (only '
                                 'files are)')
            continue
        target = item.get('target') or (f'/run/secrets/{source}' if kind == 'secrets'
                                        else f'/{source}')
        if not target.startswith('/'):
            target = f'/run/secrets/{target}'
        binds.append(f'{declared["file"]}:{target}:ro')
        for extra in ('uid', 'gid', 'mode'):
            if item.get(extra) is not None:
                builder.notes.append(f'{where}.{extra}: not mapped (bind mounts keep the '
                                     "file's owner and mode)")
    return binds


def _image(builder: Any, name: str, relationships: list[dict[str, Any]]) -> None:
    node = builder.image_nodes.get(name)
    if node is None:
        builder.notes.append(f'services.{name}: neither image nor build')
        return
    relationships.append({'type': kinds.relationship('uses_image').type_name, 'target': node})


def _networks(builder: Any, name: str, service: Mapping[str, Any], config: dict[str, Any],
              networks: Mapping[str, str], relationships: list[dict[str, Any]]) -> None:
    mode = service.get('network_mode')
    if mode:
        if mode.startswith('service:'):
            other = mode.split(':', 1)[1]
            config['network_mode'] = _name_of(builder, other, prefix='container:')
            relationships.append({'type': 'cloudify.relationships.depends_on',
                                  'target': node_id('', other)})
        else:
            config['network_mode'] = mode
        return
    attached = service.get('networks') or {}
    order = sorted(attached, key=lambda k: (-((attached[k] or {}).get('priority') or 0), k))
    for key in order:
        options = attached[key] or {}
        properties: dict[str, Any] = {'aliases': [name]}
        for option, value in options.items():
            if option in ENDPOINT_KEYS and value:
                if option == 'aliases':
                    properties['aliases'] += [a for a in value if a != name]
                else:
                    properties[ENDPOINT_KEYS[option]] = value
            elif option not in ENDPOINT_KEYS and option != 'priority':
                builder.notes.append(f'services.{name}.networks.{key}.{option}: not mapped')
        relationships.append({'type': kinds.relationship('connected_to_network').type_name,
                              'target': networks[key], 'properties': properties})


def container_node(builder: Any, name: str, mapping: ServiceMapping,
                   networks: Mapping[str, str], volumes: Mapping[str, str],
                   wait: dict[str, Any] | None) -> None:
    service = builder.services[name]
    node = node_id('', name)
    config: dict[str, Any] = {'name': builder.container_name(name), **mapping.config}
    properties: dict[str, Any] = {}
    relationships: list[dict[str, Any]] = []
    _image(builder, name, relationships)
    raw = as_dict(((builder.source.raw.get('services') or {}).get(name) or {})
                  .get('environment'))
    plain, secret = builder.inputs.environment(name, as_dict(service.get('environment')), raw)
    if plain:
        config['environment'] = plain
    if secret:
        config['secret_environment'] = secret
    binds = _files(builder, name, service, 'secrets') + _files(builder, name, service, 'configs')
    binds = config.get('binds', []) + binds
    if binds:
        config['binds'] = [builder.host_path(bind) for bind in binds]
    _networks(builder, name, service, config, networks, relationships)
    for mount in mapping.named_volumes:
        relationships.append({'type': kinds.relationship('mounts_volume').type_name,
                              'target': volumes[mount['volume']],
                              'properties': {k: v for k, v in mount.items() if k != 'volume'}})
    for dep in sorted(service.get('depends_on') or {}):
        if dep in builder.services:
            relationships.append({'type': 'cloudify.relationships.depends_on',
                                  'target': node_id('', dep)})
        else:
            builder.notes.append(f'services.{name}.depends_on.{dep}: not imported')
    for item in service.get('volumes_from') or []:
        source, _, mode = str(item).partition(':')
        if source == 'container':
            config.setdefault('volumes_from', []).append(str(item).split(':', 1)[1])
            continue
        other, _, mode = (mode.partition(':') if source == 'service' else (source, '', mode))
        config.setdefault('volumes_from', []).append(
            _name_of(builder, other, suffix=f':{mode}' if mode else ''))
        relationships.append({'type': 'cloudify.relationships.depends_on',
                              'target': node_id('', other)})
    if service.get('links') or service.get('external_links'):
        builder.notes.append(f'services.{name}.links: not mapped (service names are network '
                             'aliases already)')
    properties['container_config'] = config
    if mapping.stop:
        properties['container_stop'] = mapping.stop
    if wait:
        properties['wait_for'] = wait
    replicas = service.get('scale', (service.get('deploy') or {}).get('replicas'))
    entry: dict[str, Any] = {'type': kinds.type_name('container'),
                             'properties': properties}
    if replicas is not None and int(replicas) != 1:
        entry['capabilities'] = {'scalable': {'properties': {
            'default_instances': int(replicas)}}}
    if relationships:
        unique = {(r['type'], r['target']): r for r in reversed(relationships)}
        entry['relationships'] = [r for r in relationships
                                  if unique[(r['type'], r['target'])] is r]
    builder.nodes[node] = entry
    if replicas is None or int(replicas) == 1:
        builder.outputs[f'{node}_container'] = {
            'value': {'get_attribute': [node, 'container_name']}}
        if config.get('port_bindings'):
            builder.outputs[f'{node}_ports'] = {'value': {'get_attribute': [node, 'ports']}}
