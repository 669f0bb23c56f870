"""Grammars of service option values: mode, ports, resources, placement, policies.

Each normaliser takes what YAML gave and returns the engine's own form (the
shape ``GET /services/{id}`` shows back under ``Spec``), so the create call,
the update call and drift all use one value. Errors name the exact path.
"""

from __future__ import annotations

import math
from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import (
    Custom,
    Integer,
    ListOf,
    Number,
    Record,
    Text,
    scalar_text,
)
from docker_plugin.options.ports import PROTOCOLS, port_range
from docker_plugin.options.units import (
    CPUS_SHOWN,
    DURATION,
    DURATION_SHOWN,
    SIZE,
    SIZE_SHOWN,
    Fields,
)

MODES = ('replicated', 'global', 'replicated-job', 'global-job')
UINT64 = 2 ** 63 - 1  # what JSON numbers and the engine's int64 fields hold safely
MODE = Text(choices=MODES)
MIN_MEMORY = 4 * 1024 * 1024  # the swarm refuses smaller memory limits and reservations
MIN_NANO_CPUS = 10 ** 6       # and fewer than 0.001 CPUs


# --------------------------------------------------------------------- ports
def _published(value: Any, path: str) -> list[dict[str, Any]]:
    """``'8080:80'``, ``'8080:80/udp'``, ``80``, a range (``'9010-9012:9010-9012'``,
    ``'9010-9012'``) or a record -> engine PortConfigs (a range, one per port)."""
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        text, _, protocol = str(value).partition('/')
        published, sep, target = text.rpartition(':')
        targets = port_range(target, path)
        publish = port_range(published, path) if sep else []
        if publish and len(publish) != len(targets):
            raise InvalidInputError(path, f'{len(targets)} target ports need as many '
                                          f'published ones, got {published!r}'[:200])
        proto = Text(choices=PROTOCOLS)(protocol, path) if protocol else 'tcp'
        found = [{'target': port, 'protocol': proto} for port in targets]
        for fields, number in zip(found, publish):
            fields['published'] = number
    else:
        found = [Record({'target': Integer(1, 65535), 'published': Integer(0, 65535),
                         'protocol': Text(choices=PROTOCOLS),
                         'mode': Text(choices=('ingress', 'host')),
                         'name': Text(max_len=255)},
                        aliases={'publish_mode': 'mode', 'published_port': 'published',
                                 'target_port': 'target'},
                        required=('target',))(value, path)]
    ports = []
    for fields in found:
        port = {'Protocol': fields.get('protocol', 'tcp'), 'TargetPort': fields['target'],
                'PublishMode': fields.get('mode', 'ingress')}
        if fields.get('published'):
            port['PublishedPort'] = fields['published']
        if fields.get('name'):
            port['Name'] = fields['name']
        ports.append(port)
    return ports


_PORT = Custom((int, str, dict), _published,
               "a port: '8080:80[/udp]', a range '9010-9012:9010-9012' or {target, "
               'published, protocol, mode: ingress|host}')


def _ports(value: Any, path: str) -> list[dict[str, Any]]:
    found = [port for index, item in enumerate(value) for port in _PORT(item, f'{path}[{index}]')]
    if len(found) > 1000:
        raise InvalidInputError(path, 'expected at most 1000 ports')
    return found


PORTS = Custom((list, tuple), _ports, _PORT.expected.replace('a port', 'a list of ports', 1))


def check_endpoint(endpoint_mode: Any, ports: Any, path: str) -> None:
    """The swarm's rules across published ports: DNS round robin cannot publish through
    the ingress routing mesh; a published port and protocol are given once."""
    seen: set[tuple[int, str]] = set()
    for index, port in enumerate(ports or []):
        where = f'{path}.ports[{index}]'
        if endpoint_mode == 'dnsrr' and port.get('PublishMode') == 'ingress':
            raise InvalidInputError(where, 'endpoint_mode dnsrr cannot publish through the '
                                           "ingress routing mesh: give mode: host")
        key = (port.get('PublishedPort') or 0, port.get('Protocol') or 'tcp')
        if key[0] and key in seen:
            raise InvalidInputError(where, f'port {key[0]}/{key[1]} is published twice')
        seen.add(key)


# ----------------------------------------------------------------- resources
def _cpus(value: Any, path: str) -> int:
    number = Number(0, 4096, above=True, what='CPUs')(value, path)
    return round(number * 1e9)


CPUS = Custom((int, float), _cpus, 'CPUs, e.g. 0.5')


def _resources(value: Any, path: str) -> dict[str, Any]:
    limit = Record({'cpus': CPUS, 'memory': SIZE, 'pids': Integer(0, UINT64)},
                   aliases={'nano_cpus': 'cpus', 'memory_bytes': 'memory'})
    reserve = Record({'cpus': CPUS, 'memory': SIZE}, aliases={'nano_cpus': 'cpus',
                                                              'memory_bytes': 'memory'})
    fields = Record({'limits': limit, 'reservations': reserve})(value, path)
    for section, given in fields.items():
        # The swarm's own floors (swarmkit's validateResources); 0 means none.
        if 0 < given.get('cpus', 0) < MIN_NANO_CPUS:
            raise InvalidInputError(f'{path}.{section}.cpus', 'expected at least 0.001 CPUs')
        if 0 < given.get('memory', 0) < MIN_MEMORY:
            raise InvalidInputError(f'{path}.{section}.memory', 'expected at least 4 MiB '
                                                                '(4m), or 0 for none')
    keys = {'cpus': 'NanoCPUs', 'memory': 'MemoryBytes', 'pids': 'Pids'}
    return {section.capitalize(): {keys[k]: v for k, v in (fields.get(section) or {}).items()}
            for section in ('limits', 'reservations') if section in fields}


RESOURCES = Custom((dict,), _resources, 'resources: {limits: {cpus, memory, pids}, '
                                        'reservations: {cpus, memory}}')
_LIMITS_SHOWN = Fields({'NanoCPUs': ('cpus', CPUS_SHOWN), 'MemoryBytes': ('memory', SIZE_SHOWN)})
RESOURCES_SHOWN = Fields({'Limits': ('limits', _LIMITS_SHOWN),
                          'Reservations': ('reservations', _LIMITS_SHOWN)})


# ----------------------------------------------------------------- placement
def _preference(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = {'spread': value}
    fields = Record({'spread': Text(non_empty=True, max_len=1024)},
                    required=('spread',))(value, path)
    return {'Spread': {'SpreadDescriptor': fields['spread']}}


def _platform(value: Any, path: str) -> dict[str, str]:
    if isinstance(value, str):
        os_name, _, arch = value.partition('/')
        value = {'os': os_name, 'architecture': arch}
    fields = Record({'os': Text(non_empty=True), 'architecture': Text()},
                    required=('os',))(value, path)
    return {'Architecture': fields.get('architecture', ''), 'OS': fields['os']}


def _placement(value: Any, path: str) -> dict[str, Any]:
    constraint = Text(pattern=r'[^\x00]*(==|!=)[^\x00]*',
                      what="a constraint like 'node.role==worker'")
    fields = Record({
        'constraints': ListOf(constraint, max_items=1000),
        'preferences': ListOf(Custom((str, dict), _preference,
                                     "'node.labels.zone' or {spread: node.labels.zone}")),
        'max_replicas': Integer(0, UINT64),
        'platforms': ListOf(Custom((str, dict), _platform, "'linux/amd64' or {os, "
                                                           'architecture}')),
    }, aliases={'maxreplicas': 'max_replicas', 'max_replicas_per_node': 'max_replicas'})(
        value, path)
    keys = {'constraints': 'Constraints', 'preferences': 'Preferences',
            'max_replicas': 'MaxReplicas', 'platforms': 'Platforms'}
    return {keys[k]: v for k, v in fields.items()}


PLACEMENT = Custom((dict,), _placement, 'placement: {constraints, preferences, max_replicas, '
                                        'platforms}')


# ------------------------------------------------------------ restart policy
def _restart(value: Any, path: str) -> dict[str, Any]:
    fields = Record({'condition': Text(choices=('none', 'on-failure', 'any')),
                     'delay': DURATION, 'max_attempts': Integer(0, UINT64), 'window': DURATION},
                    aliases={'maxattempts': 'max_attempts'})(value, path)
    keys = {'condition': 'Condition', 'delay': 'Delay', 'max_attempts': 'MaxAttempts',
            'window': 'Window'}
    return {keys[k]: v for k, v in fields.items()}


RESTART = Custom((dict,), _restart, 'a restart policy: {condition: none|on-failure|any, '
                                    'delay, max_attempts, window}')
RESTART_SHOWN = Fields({'Delay': ('delay', DURATION_SHOWN), 'Window': ('window', DURATION_SHOWN)})


# ------------------------------------------------------- update and rollback
def _update_config(rollback: bool) -> Custom:
    actions = ('continue', 'pause') if rollback else ('continue', 'pause', 'rollback')

    def convert(value: Any, path: str) -> dict[str, Any]:
        fields = Record({'parallelism': Integer(0, UINT64), 'delay': DURATION,
                         'failure_action': Text(choices=actions), 'monitor': DURATION,
                         'max_failure_ratio': Number(0, 1, what='a ratio'),
                         'order': Text(choices=('stop-first', 'start-first'))},
                        aliases={'failureaction': 'failure_action',
                                 'maxfailureratio': 'max_failure_ratio'})(value, path)
        # Sent in full: the SDK's failure_action default (continue) is not the
        # engine's (pause), and a missing field would be the SDK's.
        return {'Parallelism': fields.get('parallelism', 1), 'Delay': fields.get('delay', 0),
                'FailureAction': fields.get('failure_action', 'pause'),
                'Monitor': fields.get('monitor', 5 * 10 ** 9),
                'MaxFailureRatio': fields.get('max_failure_ratio', 0),
                'Order': fields.get('order', 'stop-first')}

    return Custom((dict,), convert, f'{"rollback" if rollback else "update"} settings: '
                                    '{parallelism, delay, failure_action: '
                                    f'{"|".join(actions)}, monitor, max_failure_ratio, '
                                    'order: stop-first|start-first}')


UPDATE_CONFIG = _update_config(rollback=False)
ROLLOUT_SHOWN = Fields({'Delay': ('delay', DURATION_SHOWN), 'Monitor': ('monitor', DURATION_SHOWN)})
ROLLBACK_CONFIG = _update_config(rollback=True)


# ------------------------------------------------------------------ networks
def _network(value: Any, path: str) -> dict[str, Any]:
    if isinstance(value, str):
        value = {'target': value}
    fields = Record({'target': Text(non_empty=True, max_len=255),
                     'aliases': ListOf(Text(non_empty=True, max_len=255)),
                     'driver_opts': Custom((dict,), lambda v, p: {
                         str(k): scalar_text(x, f'{p}.{k}') for k, x in v.items()},
                         'a dictionary of option: value')},
                    aliases={'name': 'target', 'driver_opt': 'driver_opts'},
                    required=('target',))(value, path)
    out: dict[str, Any] = {'Target': fields['target']}
    if fields.get('aliases'):
        out['Aliases'] = fields['aliases']
    if fields.get('driver_opts'):
        out['DriverOpts'] = fields['driver_opts']
    return out


NETWORKS = ListOf(Custom((str, dict), _network, 'a network name or {target, aliases, '
                                                'driver_opts}'))


# ---------------------------------------------------- secret and config uses
def file_reference(kind: str) -> Custom:
    """A secret or config the service uses, by the name it has in the swarm."""
    def convert(value: Any, path: str) -> dict[str, Any]:
        if isinstance(value, str):
            value = {'source': value}
        fields = Record({'source': Text(non_empty=True, max_len=255),
                         'target': Text(non_empty=True, max_len=4096),
                         'uid': Text(pattern=r'[0-9]{1,10}', what='a numeric user id'),
                         'gid': Text(pattern=r'[0-9]{1,10}', what='a numeric group id'),
                         'mode': Integer(0, 0o7777)},
                        aliases={'name': 'source'}, required=('source',))(value, path)
        return file_use(fields['source'], fields)
    return Custom((str, dict), convert, f'a {kind} name or {{source, target, uid, gid, mode}}')


def file_use(name: str, fields: dict[str, Any], default_target: str | None = None) -> dict:
    """The file part of a secret or config reference (the id is added when resolved)."""
    mode = fields.get('mode')
    return {'Name': name, 'File': {'Name': fields.get('target') or default_target or name,
                                   'UID': fields.get('uid') or '0',
                                   'GID': fields.get('gid') or '0',
                                   'Mode': 0o444 if mode is None else mode}}


# ----------------------------------------------------------------- job modes
def mode_spec(mode: str, replicas: int | None, max_concurrent: int | None,
              total_completions: int | None, path: str = 'service_config') -> dict[str, Any]:
    """The engine's ``Mode`` for one of the four modes."""
    if mode == 'replicated':
        return {'Replicated': {'Replicas': 1 if replicas is None else replicas}}
    if mode == 'global':
        if replicas is not None:
            raise InvalidInputError(f'{path}.replicas', 'a global service runs one task per '
                                                        'node: replicas does not apply')
        return {'Global': {}}
    if mode == 'replicated-job':
        total = total_completions if total_completions is not None else (replicas or 1)
        concurrent = max_concurrent if max_concurrent is not None else total
        return {'ReplicatedJob': {'MaxConcurrent': concurrent, 'TotalCompletions': total}}
    return {'GlobalJob': {}}


def batches(replicas: int, parallelism: int) -> int:
    """How many update batches a rolling update of ``replicas`` takes."""
    return 1 if parallelism <= 0 else max(1, math.ceil(replicas / parallelism))
