"""What a container should be, and how the create call is written for it.

``ContainerSpec`` is built by the task layer from everything that shapes a
container (its option dicts, env files, runtime environment, relationships,
instance name). Here it becomes the create call's keyword arguments, which
the docker SDK renders into the request body. Drift never reads that
rendering back: the desired side of every option is worked out from the
option table (``Option.stored``), so a value the SDK renders wrongly shows as
drift against what the engine really holds.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import records
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.ports import Port, port_key
from docker_plugin.options.volume import MOUNT
from docker_plugin.resources.engine_api import EngineApi


@records.record
class ContainerSpec:
    """A container's desired shape.

    Attributes:
        image: the image reference to create from (None: use the one create made).
        create: validated options of the create call (its body's Config and its
            own arguments).
        host: validated HostConfig options (container_config's and container_start's,
            with volume mounts from relationships).
        networks: (network name, endpoint options) per connected network, in
            blueprint order; the first is joined at creation, the rest right after.
        name: the Docker name for this instance.
        plugin: the plugin's own options (comparisons, paused, ...).
        secret_names: environment variables whose values are secret.
        named: the blueprint gave the name (rather than the instance's default).
        written: the values of options with units as the blueprint wrote them
            (``OptionTable.written``): what drift shows.
    """

    image: str | None
    create: dict[str, Any]
    host: dict[str, Any]
    networks: list[tuple[str, dict[str, Any]]]
    name: str
    plugin: dict[str, Any] = records.field(default_factory=dict)
    secret_names: list[str] = records.field(default_factory=list)
    named: bool = False
    written: dict[str, Any] = records.field(default_factory=dict)

    def declared(self) -> dict[str, Any]:
        """Every option the blueprint set, by table name (what drift compares)."""
        return {**self.create, **self.host, **self.plugin, 'name': self.name}

    @property
    def paused(self) -> bool:
        return self.plugin.get('paused') is True


def build(config: Mapping[str, dict[str, Any]], start: Mapping[str, Any],
          runtime_env: Mapping[str, str], mounts: list[dict[str, Any]],
          networks: list[tuple[str, dict[str, Any]]], name: str,
          file_env: Mapping[str, str] | None = None) -> ContainerSpec:
    """Merge validated parts into one spec.

    Args:
        config: ``CONTAINER.validate(container_config)``.
        start: validated HostConfig options of ``container_start``.
        runtime_env: ``docker_env_var`` (wins over the static environment).
        mounts: engine mounts for the volumes the container mounts by relationship.
        networks: (name, endpoint) for the networks it is connected to.
        name: the instance's container name.
        file_env: the variables of ``env_file`` (the environment wins over them).
    """
    create = dict(config.get('create', {}))
    host = {**config.get('host', {}), **start}
    plugin = dict(config.get('plugin', {}))
    environment = dict(file_env or {})
    environment.update(create.get('environment', {}))
    environment.update(runtime_env)
    hidden = plugin.pop('secret_environment', {})
    environment.update(hidden)
    if environment:
        create['environment'] = environment
    if mounts:
        host['mounts'] = list(host.get('mounts', [])) + mounts
    if networks and 'network_mode' not in host:
        host['network_mode'] = networks[0][0]
    named = create.pop('name', None) is not None
    return ContainerSpec(image=create.pop('image', None), create=create, host=host,
                         networks=networks, name=name, plugin=plugin,
                         secret_names=sorted(hidden), named=named)


def volume_mount(volume: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The engine mount for a named volume, from ``MOUNT`` options."""
    mount: dict[str, Any] = {'Target': options['target'], 'Source': volume, 'Type': 'volume',
                             'ReadOnly': bool(options.get('read_only'))}
    volume_options = {}
    if options.get('no_copy'):
        volume_options['NoCopy'] = True
    if options.get('subpath'):
        volume_options['Subpath'] = options['subpath']
    if volume_options:
        mount['VolumeOptions'] = volume_options
    return mount


def check_engine_support(spec: ContainerSpec, api_version: str) -> None:
    """Refuse options this engine would silently ignore (by each option's min_api)."""
    CONTAINER.check_api(spec.create, api_version, 'container_config')
    CONTAINER.check_api(spec.host, api_version, 'container_config')
    for mount in spec.host.get('mounts') or []:
        if (mount.get('VolumeOptions') or {}).get('Subpath'):
            MOUNT.check_api({'subpath': True}, api_version, f'mount of {mount.get("Source")}')


def exposed(spec: ContainerSpec) -> list[Port]:
    """Ports to expose: the user's, plus every port that has a binding (as the docker
    CLI does)."""
    ports = list(spec.create.get('ports') or [])
    seen = {port_key(p) for p in ports}
    for key in spec.host.get('port_bindings') or {}:
        if key not in seen:
            number, _, protocol = key.partition('/')
            ports.append((int(number), protocol))
            seen.add(key)
    return ports


def _keywords(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validated options as the SDK's keywords (``cpus`` is the SDK's ``nano_cpus``)."""
    out = {}
    for name, value in options.items():
        keyword = CONTAINER.options[name].sdk_keyword
        if keyword is not None:
            out[keyword] = value
    return out


def host_config(api: EngineApi, host: Mapping[str, Any]) -> dict[str, Any]:
    """HostConfig body for the given host options (only what was asked for)."""
    config = dict(api.create_host_config(**_keywords(host)))
    if 'network_mode' not in host:
        config.pop('NetworkMode', None)
    return config


def create_kwargs(api: EngineApi, spec: ContainerSpec, labels: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments of the SDK's ``create_container`` for this spec."""
    kwargs = _keywords(spec.create)
    kwargs['labels'] = {**dict(kwargs.get('labels') or {}), **labels}
    ports = exposed(spec)
    if ports:
        kwargs['ports'] = ports
    if spec.host:
        kwargs['host_config'] = host_config(api, spec.host)
    if spec.networks:
        name, endpoint = spec.networks[0]
        kwargs['networking_config'] = api.create_networking_config(
            {name: api.create_endpoint_config(**endpoint)})
    elif 'networking_config' in spec.create:
        kwargs['networking_config'] = spec.create['networking_config']
    if 'platform' in spec.create:
        kwargs['platform'] = spec.create['platform']
    return kwargs
