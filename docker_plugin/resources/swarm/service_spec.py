"""A service's engine spec from its validated options, and the views drift compares.

Pure functions. ``build`` gives the body of ``POST /services/create`` (and of
the update call): networks in ``TaskTemplate.Networks``, ``UpdateConfig``
and ``RollbackConfig`` in full (``failure_action`` always sent), the image
as given (the caller pins it to a digest first). ``desired_view`` and
``actual_view`` add the ``Plugin.*`` paths of the option table (the mode's
name, the replica count, the environment split into plain and secret).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from docker_plugin import records
from docker_plugin.options.service import SERVICE, SPEC_EXTRAS
from docker_plugin.options.service_values import ROLLBACK_CONFIG, UPDATE_CONFIG, mode_spec
from docker_plugin.resources.swarm.convergence import mode_of

_CONTAINER = {'image': 'Image', 'command': 'Args', 'entrypoint': 'Command', 'workdir': 'Dir',
              'user': 'User', 'groups': 'Groups', 'hostname': 'Hostname', 'hosts': 'Hosts',
              'tty': 'TTY', 'init': 'Init', 'read_only': 'ReadOnly', 'stop_signal': 'StopSignal',
              'stop_grace_period': 'StopGracePeriod', 'cap_add': 'CapabilityAdd',
              'cap_drop': 'CapabilityDrop', 'sysctls': 'Sysctls', 'ulimits': 'Ulimits',
              'healthcheck': 'Healthcheck', 'mounts': 'Mounts', 'container_labels': 'Labels'}
_TASK = {'resources': 'Resources', 'placement': 'Placement', 'restart_policy': 'RestartPolicy',
         'log_driver': 'LogDriver', 'force_update': 'ForceUpdate'}


@records.record
class ServiceSpec:
    """What the blueprint asks for: the engine spec and the options it set."""

    name: str
    values: dict[str, Any]         # the validated service options (plugin ones included)
    networks: list[dict[str, Any]]  # task-template network attachments (names or ids)
    secrets: list[dict[str, Any]]  # secret references (Name, File[, SecretID])
    configs: list[dict[str, Any]]  # config references (Name, File[, ConfigID])
    labels: dict[str, str]         # the plugin's labels
    auth: dict[str, Any] | None = None  # the engine's auth_config for the image's registry
    # Options with units as the blueprint wrote them (OptionTable.written): what drift shows.
    written: dict[str, Any] = records.field(default_factory=dict)

    @property
    def secret_env_names(self) -> list[str]:
        return sorted(self.values.get('secret_env') or {})


def _log_driver(value: Mapping[str, Any]) -> dict[str, Any]:
    return {'Name': value.get('Type') or value.get('Name'),
            'Options': value.get('Config') or value.get('Options') or {}}


def build(service: ServiceSpec, image: str) -> dict[str, Any]:
    """The engine spec (``POST /services/create`` body) with ``image`` as the image."""
    values = service.values
    container: dict[str, Any] = {}
    for name, key in _CONTAINER.items():
        if values.get(name) is not None:
            container[key] = copy.deepcopy(values[name])
    container['Image'] = image
    if 'Hosts' in container:  # the engine's form is 'IP host'
        container['Hosts'] = [' '.join(reversed(h.split(':', 1))) for h in container['Hosts']]
    env = {**(values.get('env') or {}), **(values.get('secret_env') or {})}
    if env:
        container['Env'] = [f'{k}={v}' for k, v in env.items()]
    if service.secrets:
        container['Secrets'] = [_reference(r, 'Secret') for r in service.secrets]
    if service.configs:
        container['Configs'] = [_reference(r, 'Config') for r in service.configs]
    task: dict[str, Any] = {'ContainerSpec': container}
    for name, key in _TASK.items():
        if values.get(name) is not None:
            task[key] = copy.deepcopy(values[name])
    if 'LogDriver' in task:
        task['LogDriver'] = _log_driver(task['LogDriver'])
    if service.networks:
        task['Networks'] = copy.deepcopy(service.networks)
    spec: dict[str, Any] = {
        'Name': service.name,
        'Labels': {**(values.get('labels') or {}), **service.labels},
        'TaskTemplate': task,
        'Mode': mode_spec(values.get('mode') or 'replicated', values.get('replicas'),
                          values.get('max_concurrent'), values.get('replicas')),
    }
    if not str(values.get('mode')).endswith('job'):  # a job has no rolling updates
        # Always in full: the engine's defaults, failure_action included, said out loud.
        for name, key, check in (('update_config', 'UpdateConfig', UPDATE_CONFIG),
                                 ('rollback_config', 'RollbackConfig', ROLLBACK_CONFIG)):
            spec[key] = dict(values.get(name) or check({}, name))
    endpoint = {k: values[n] for n, k in (('endpoint_mode', 'Mode'), ('ports', 'Ports'))
                if values.get(n) is not None}
    if endpoint:
        spec['EndpointSpec'] = endpoint
    return spec


def _reference(ref: Mapping[str, Any], kind: str) -> dict[str, Any]:
    out = {'File': dict(ref['File']), f'{kind}Name': ref['Name']}
    if ref.get('ID'):
        out[f'{kind}ID'] = ref['ID']
    return out


def _replicas(spec: Mapping[str, Any]) -> int | None:
    mode = spec.get('Mode') or {}
    if 'Replicated' in mode:
        return (mode['Replicated'] or {}).get('Replicas')
    if 'ReplicatedJob' in mode:
        return (mode['ReplicatedJob'] or {}).get('TotalCompletions')
    return None


def _env(spec: Mapping[str, Any]) -> dict[str, str]:
    entries = ((spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}).get('Env') or []
    return dict(str(e).partition('=')[::2] for e in entries)


def _with_plugin(spec: Mapping[str, Any], secret_names: list[str]) -> dict[str, Any]:
    env = _env(spec)
    view = dict(spec)
    view['Plugin'] = {'Mode': mode_of(spec), 'Replicas': _replicas(spec),
                      'Env': {k: v for k, v in env.items() if k not in secret_names},
                      'SecretEnv': {k: v for k, v in env.items() if k in secret_names}}
    return view


def desired_view(service: ServiceSpec, image: str) -> dict[str, Any]:
    return _with_plugin(build(service, image), service.secret_env_names)


def actual_view(spec: Mapping[str, Any], service: ServiceSpec) -> dict[str, Any]:
    return _with_plugin(spec, service.secret_env_names)


def declared(values: Mapping[str, Any]) -> list[str]:
    """Options drift compares: the service options the blueprint set."""
    return [o.name for o in SERVICE if o.section == 'service' and values.get(o.name) is not None]


__all__ = ['SPEC_EXTRAS', 'ServiceSpec', 'actual_view', 'build', 'declared', 'desired_view']
