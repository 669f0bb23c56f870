"""Gather a service's spec from everything in Cloudify that shapes it.

``service_config`` (validated by the option table), the replica count a
``scale`` left in runtime properties, the node's name, and its
relationships: networks (``connected_to_network``: aliases and driver
options), secrets (``uses_secret``) and configs (``uses_config``), each
pointing at the current version of its object. Names given in
``service_config`` are resolved to ids through the manager.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds, registry
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.network import ENDPOINT
from docker_plugin.options.service import FILE_USE, SERVICE, SERVICE_NAME
from docker_plugin.options.service_values import check_endpoint, file_use
from docker_plugin.resources import networks as network_calls
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import objects as swarm_objects
from docker_plugin.resources.swarm.service_spec import ServiceSpec
from docker_plugin.tasks.container.spec import BASE_KEYS, NETWORK_RELATIONSHIP
from docker_plugin.tasks.context import default_name, instance_name, resolve_input, resource_labels
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.relationships import related

SECRET_RELATIONSHIP = kinds.relationship('uses_secret').type_name
CONFIG_RELATIONSHIP = kinds.relationship('uses_config').type_name
FIELD = 'service_config'


def service_name(ctx: Ctx, kwargs: Mapping[str, Any]) -> str:
    base = resolve_input(ctx, kwargs, 'name', default='')
    if base:
        SERVICE_NAME(base, 'name')
    name = instance_name(ctx, base) or default_name(ctx, '-')
    return SERVICE_NAME(name[:63].rstrip('-_.'), 'name')


def checked(ctx: Ctx, kwargs: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """``service_config``, validated (what a scale left in runtime properties counted),
    and the registry credentials it gives."""
    values = SERVICE.parse(resolve_input(ctx, kwargs, FIELD), FIELD)
    scaled = ctx.instance.runtime_properties.get('replicas')
    if scaled is not None and values.get('mode') in ('replicated', None):
        values['replicas'] = scaled
    if values.get('mode') in ('global', 'global-job') and values.get('replicas') is not None:
        raise InvalidInputError(f'{FIELD}.replicas', f'a {values["mode"]} service runs one '
                                                     'task per node: replicas does not apply')
    for name in ('update_config', 'rollback_config'):
        if values.get(name) is not None and str(values.get('mode')).endswith('job'):
            raise InvalidInputError(f'{FIELD}.{name}', 'a job runs to completion: it has no '
                                                       'rolling updates')
    if values.get('max_concurrent') is not None and values.get('mode') != 'replicated-job':
        raise InvalidInputError(f'{FIELD}.max_concurrent', 'only a replicated-job has it')
    check_endpoint(values.get('endpoint_mode'), values.get('ports'), FIELD)
    return values, registry.auth_config(values.get('registry_auth'),
                                        f'{FIELD}.registry_auth', values['image'])


def gather(ctx: Ctx, kwargs: Mapping[str, Any]) -> ServiceSpec:
    """The validated spec (no engine call); raises InvalidInputError naming the field."""
    raw = resolve_input(ctx, kwargs, FIELD)
    values, auth = checked(ctx, kwargs)
    return ServiceSpec(name=service_name(ctx, kwargs), values=values,
                       networks=[*(values.get('networks') or []),
                                              *_related_networks(ctx)],
                       secrets=[*(values.get('secrets') or []),
                                *_related_files(ctx, SECRET_RELATIONSHIP, 'secret')],
                       configs=[*(values.get('configs') or []),
                                *_related_files(ctx, CONFIG_RELATIONSHIP, 'config')],
                       labels=resource_labels(ctx), auth=auth, written=SERVICE.written(raw))


def _related_networks(ctx: Ctx) -> list[dict[str, Any]]:
    out = []
    for rel, properties in related(ctx, NETWORK_RELATIONSHIP):
        field = f'relationship to {rel.target.node.id}'
        endpoint = ENDPOINT.validate(properties, field, extra=BASE_KEYS).get('endpoint', {})
        fixed = sorted(k for k, v in endpoint.items()
                       if v not in (None, '', [], {}) and k not in ('aliases', 'driver_opt'))
        if fixed:
            raise InvalidInputError(f'{field}.{fixed[0]}', "a service's tasks get their "
                                                           'addresses from the swarm')
        name = rel.target.instance.runtime_properties.get('network_id') or \
            rel.target.instance.runtime_properties.get('network_name')
        if not name:
            raise InvalidInputError(field, f'the target has no network: is it a '
                                           f'{kinds.type_name("network")}?')
        attachment: dict[str, Any] = {'Target': name}
        if endpoint.get('aliases'):
            attachment['Aliases'] = endpoint['aliases']
        if endpoint.get('driver_opt'):
            attachment['DriverOpts'] = endpoint['driver_opt']
        out.append(attachment)
    return out


def _related_files(ctx: Ctx, relationship: str, kind: str) -> list[dict[str, Any]]:
    out = []
    for rel, properties in related(ctx, relationship):
        field = f'relationship to {rel.target.node.id}'
        given = {k: v for k, v in properties.items() if v not in (None, '', {}, [])}
        fields = FILE_USE.parse(given, field, extra=BASE_KEYS)
        props = rel.target.instance.runtime_properties
        if not props.get(f'{kind}_id'):
            raise InvalidInputError(field, f'the target has no {kind}: is it a '
                                           f'{kinds.type_name(kind)}?')
        reference = file_use(props[f'{kind}_name'], fields,
                             default_target=props.get('base_name') or rel.target.node.id)
        reference['ID'] = props[f'{kind}_id']
        out.append(reference)
    return out


def resolve(api: EngineApi, spec: ServiceSpec) -> ServiceSpec:
    """Network names and secret/config names turned into the ids the engine shows back."""
    for attachment in spec.networks:
        info = network_calls.inspect(api, attachment['Target'])
        if info is None:
            raise InvalidInputError(f'{FIELD}.networks', f'no network {attachment["Target"]}')
        if info.get('Scope') != 'swarm':
            raise InvalidInputError(f'{FIELD}.networks', f'network {info["Name"]} is '
                                    f'{info.get("Driver")} ({info.get("Scope")} scope): a '
                                    'service needs a swarm-scope (overlay) network')
        attachment['Target'] = info['Id']
    for kind, refs in (('secret', spec.secrets), ('config', spec.configs)):
        for ref in refs:
            if ref.get('ID'):
                continue
            found = swarm_objects.find(api, kind, ref['Name'])
            if found is None:
                raise InvalidInputError(f'{FIELD}.{kind}s', f'no {kind} named {ref["Name"]}')
            ref['ID'] = found['ID']
    return spec

