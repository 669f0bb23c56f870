"""What a container should be, gathered from everything that shapes it.

``container_config`` and ``container_start`` (validated against the option
table), ``docker_env_var`` and ``secret_environment`` (merged into the
environment), the instance's name, and its relationships: networks it is
connected to (with aliases and addresses) and volumes it mounts.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import docker.types

from docker_plugin import secrets
from docker_plugin.cloudify_ops import instance_name, related, resolve_input
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.container import CONTAINER, START_SECTIONS, normalise_environment
from docker_plugin.options.network import ENDPOINT
from docker_plugin.options.volume import MOUNT

NETWORK_RELATIONSHIP = 'cloudify.relationships.docker.connected_to_network'
VOLUME_RELATIONSHIP = 'cloudify.relationships.docker.mounts_volume'
# Properties every Cloudify relationship carries; not ours to validate.
BASE_KEYS = ('connection_type',)


@dataclasses.dataclass
class ContainerSpec:
    """A container's desired shape.

    Attributes:
        create: options of the create call's body.
        host: HostConfig options (container_config's and container_start's).
        networks: (network name, endpoint options) per connected network, in
            blueprint order; the first is joined at creation, the rest right after.
        name: the Docker name for this instance: the user's (per instance when
            there are several), else ``default_name``.
    """

    create: dict[str, Any]
    host: dict[str, Any]
    networks: list[tuple[str, dict[str, Any]]]
    name: str

    @property
    def image(self) -> str | None:
        return self.create.get('image')


def start_options(ctx: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Validated HostConfig options of ``container_start``."""
    return CONTAINER.validate(resolve_input(ctx, kwargs, 'container_start'), 'container_start',
                              sections=START_SECTIONS).get('host', {})


def build(ctx: Any, kwargs: dict[str, Any]) -> ContainerSpec:
    """Gather and validate the spec; raises InvalidInputError naming the field."""
    config = CONTAINER.validate(resolve_input(ctx, kwargs, 'container_config'), 'container_config')
    create = config.get('create', {})
    host = {**config.get('host', {}), **start_options(ctx, kwargs)}
    environment = dict(create.get('environment', {}))
    env_var = ctx.instance.runtime_properties.get('docker_env_var')
    if env_var:
        if not isinstance(env_var, (dict, list)):
            raise InvalidInputError('runtime_properties.docker_env_var',
                                    'expected a dictionary of NAME: value')
        # Computed at deploy time (e.g. a peer's address): wins over the static value.
        environment.update(normalise_environment(env_var, 'runtime_properties.docker_env_var'))
    hidden = create.pop('secret_environment', {})
    secrets.remember(*hidden.values())
    environment.update(hidden)
    if environment:
        create['environment'] = environment
    mounts = _volume_mounts(ctx)
    if mounts:
        host['mounts'] = list(host.get('mounts', [])) + mounts
    name = instance_name(ctx, create.get('name')) or default_name(ctx)
    return ContainerSpec(create=create, host=host, networks=_networks(ctx), name=name)


def default_name(ctx: Any) -> str:
    """``<deployment>.<node instance id>``: unique per deployment, and it makes
    creation idempotent (a retry finds the container by name, no listing)."""
    name = re.sub(r'[^a-zA-Z0-9_.-]', '-', f'{ctx.deployment.id}.{ctx.instance.id}')
    return name if name[:1].isalnum() else f'c{name}'


def _networks(ctx: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for rel, properties in related(ctx, NETWORK_RELATIONSHIP):
        field = f'relationship to {rel.target.node.id}'
        endpoint = ENDPOINT.validate(properties, field, extra=BASE_KEYS).get('endpoint', {})
        name = rel.target.instance.runtime_properties.get('network_name')
        if not name:
            raise InvalidInputError(field, 'the target has no network_name: is it a '
                                           'cloudify.nodes.docker.Network?')
        out.append((name, endpoint))
    return out


def _volume_mounts(ctx: Any) -> list[docker.types.Mount]:
    mounts = []
    for rel, properties in related(ctx, VOLUME_RELATIONSHIP):
        field = f'relationship to {rel.target.node.id}'
        options = MOUNT.validate(properties, field, extra=BASE_KEYS).get('mount', {})
        if not options.get('target'):
            raise InvalidInputError(f'{field}.target', 'required: the path inside the container')
        volume = rel.target.instance.runtime_properties.get('volume_name')
        if not volume:
            raise InvalidInputError(field, 'the target has no volume_name: is it a '
                                           'cloudify.nodes.docker.Volume?')
        mounts.append(docker.types.Mount(
            target=options['target'], source=volume, type='volume',
            read_only=options.get('read_only', False), no_copy=options.get('no_copy', False),
            subpath=options.get('subpath') or None))
    return mounts


def networking_config(api: Any, networks: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The create call's NetworkingConfig for the first network."""
    name, endpoint = networks[0]
    return api.create_networking_config({name: api.create_endpoint_config(**endpoint)})


SUBPATH_API = (1, 45)


def check_engine_support(api: Any, host: dict[str, Any]) -> None:
    """Refuse what this engine would silently ignore (volume subpaths before API 1.45)."""
    version = tuple(int(p) for p in str(api.api_version).split('.')[:2])
    for mount in host.get('mounts') or []:
        subpath = ((mount.get('VolumeOptions') or {}) if isinstance(mount, dict) else {}).get(
            'Subpath')
        if subpath and version < SUBPATH_API:
            raise InvalidInputError(
                'subpath', f'mounting {subpath!r} of a volume needs Docker API 1.45 or newer; '
                           f'this engine speaks {api.api_version}')
