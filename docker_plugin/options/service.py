"""Every option of a swarm service, declared once.

``SERVICE`` is the node's ``service_config``. ``read`` is where the service's
``Spec`` (``GET /services/{id}``) holds the value, in the engine's own form,
which every check here produces; paths under ``Plugin.`` are views the
plugin derives from the spec (the mode's name, the environment split into
plain and secret variables). Everything but the mode and the name changes in
place through the engine's service update (a rolling update of the tasks).

``SERVICE_WAIT`` is ``converge``: how the plugin waits for the service to
run its current spec, as the docker CLI does (see README "Swarm").
"""

from __future__ import annotations

from typing import Any

from docker_plugin.options import container_values as cv
from docker_plugin.options import host_values as hv
from docker_plugin.options import mounts
from docker_plugin.options import service_values as sv
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.options.checks import (
    FLAG,
    NON_NEGATIVE,
    TEXT_LIST,
    Integer,
    ListOf,
    Number,
    Text,
)
from docker_plugin.options.image import AUTH, REFERENCE
from docker_plugin.options.units import DURATION, DURATION_SHOWN

SUPERSET, SET, IGNORE = Compare.SUPERSET, Compare.SET, Compare.IGNORE
IN_PLACE, RECREATE = Update.SERVICE, Update.RECREATE
CS = 'TaskTemplate.ContainerSpec.'
SERVICE_NAME = Text(pattern=r'[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}',
                    what='a service name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 63 characters)')


def _s(name: str, check: Any, read: str | None, doc: str, **extra: Any) -> Option:
    return Option(name, check, 'service', read=read, update=extra.pop('update', IN_PLACE),
                  doc=doc, **extra)


def _no_zeros(value: Any) -> Any:
    """Without the zero, false and empty fields the engine leaves out of its answer."""
    if isinstance(value, dict):
        out = {k: _no_zeros(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _zero(v)}
    if isinstance(value, list):
        return [_no_zeros(v) for v in value]
    return value


def _zero(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and value == 0) or \
        (isinstance(value, (str, list, dict)) and not value)


def _rollout(value: Any) -> Any:
    """Update and rollback settings; the engine keeps MaxFailureRatio as a 32-bit float
    (0.472730426784998 comes back as 0.47273043), so both sides are compared at that
    precision."""
    if isinstance(value, dict) and isinstance(value.get('MaxFailureRatio'), (int, float)):
        import struct  # first: a ratio too small for 32 bits is kept as 0, left out
        value = {**value, 'MaxFailureRatio': struct.unpack(
            'f', struct.pack('f', value['MaxFailureRatio']))[0]}
    return _no_zeros(value)


def _flag(value: Any) -> bool:
    return value is True


def _sorted_list(value: Any) -> Any:
    return sorted(value, key=repr) if isinstance(value, list) else value


def _ports(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((p.get('TargetPort'), p.get('PublishedPort') or 0,
                       p.get('Protocol') or 'tcp', p.get('PublishMode') or 'ingress')
                      for p in value if isinstance(p, dict))
    return value


def _networks(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((n.get('Target'), tuple(sorted(n.get('Aliases') or ())))
                      for n in value if isinstance(n, dict))
    return value


def _files(value: Any) -> Any:
    """Secret and config references: by name and file (the ids change with versions)."""
    if isinstance(value, list):
        return sorted((r.get('SecretName') or r.get('ConfigName'),
                       (r.get('File') or {}).get('Name'), (r.get('File') or {}).get('Mode'))
                      for r in value if isinstance(r, dict))
    return value


SERVICE = OptionTable('service', [
    # --- what runs ---------------------------------------------------------------
    _s('image', REFERENCE, f'{CS}Image', 'image to run (required); pinned to its digest at '
       'deploy and on update, so a moved tag rolls out', required=True),
    _s('command', cv.COMMAND, f'{CS}Args', "command (the image's CMD replaced; the CLI's "
       'arguments after the image)'),
    _s('entrypoint', cv.COMMAND, f'{CS}Command', "entrypoint override (the image's ENTRYPOINT "
       'replaced)'),
    _s('env', cv.ENVIRONMENT, 'Plugin.Env', 'environment variables (NAME: value)',
       show_values=False),
    _s('secret_env', cv.SECRET_ENVIRONMENT, 'Plugin.SecretEnv', 'environment variables whose '
       'values are secrets: masked everywhere, compared by name and value, shown by name',
       secret=True),
    _s('workdir', Text(max_len=4096), f'{CS}Dir', 'working directory'),
    _s('user', Text(max_len=255), f'{CS}User', 'user[:group] to run as'),
    _s('groups', TEXT_LIST, f'{CS}Groups', 'supplementary groups', compare=SET),
    _s('hostname', Text(max_len=255), f'{CS}Hostname', 'host name of the tasks (templates '
       'like {{.Task.Slot}} work)'),
    _s('hosts', hv.EXTRA_HOSTS, f'{CS}Hosts', 'extra /etc/hosts entries {host: ip}',
       compare=SET),
    _s('tty', FLAG, f'{CS}TTY', 'allocate a TTY', canon=_flag),
    _s('init', FLAG, f'{CS}Init', 'run an init process as PID 1', canon=_flag),
    _s('read_only', FLAG, f'{CS}ReadOnly', 'read-only root file system', canon=_flag),
    _s('stop_signal', cv.SIGNAL, f'{CS}StopSignal', 'signal that stops a task',
       canon=cv.signal_canon),
    _s('stop_grace_period', DURATION, f'{CS}StopGracePeriod', "time before a stopping task is "
       "killed, e.g. '2s' (give one: busybox sh as PID 1 ignores SIGTERM)",
       units=DURATION_SHOWN),
    _s('cap_add', ListOf(Text(non_empty=True)), f'{CS}CapabilityAdd',
       'capabilities to add (API 1.41+)', compare=SET, min_api=(1, 41)),
    _s('cap_drop', ListOf(Text(non_empty=True)), f'{CS}CapabilityDrop',
       'capabilities to drop (API 1.41+)', compare=SET, min_api=(1, 41)),
    _s('sysctls', cv.LABELS, f'{CS}Sysctls', 'namespaced kernel parameters (API 1.40+)',
       min_api=(1, 40)),
    _s('ulimits', hv.ULIMITS, f'{CS}Ulimits', 'ulimits (API 1.41+)', min_api=(1, 41),
       canon=_sorted_list),
    _s('healthcheck', cv.HEALTHCHECK, f'{CS}Healthcheck',
       'healthcheck: test, interval, timeout, retries, start_period', compare=SUPERSET,
       canon=_no_zeros, units=cv.HEALTHCHECK_SHOWN),
    _s('mounts', mounts.MOUNTS, f'{CS}Mounts', 'mounts: {type: volume|bind|tmpfs, source, target, '
       'read_only, ...}', canon=mounts.mounts_canon),
    _s('container_labels', cv.LABELS, f'{CS}Labels', 'labels of the task containers',
       compare=SUPERSET),
    _s('secrets', ListOf(sv.file_reference('secret')), f'{CS}Secrets', 'secrets by swarm name '
       '(besides uses_secret relationships): name or {source, target, uid, gid, mode}',
       canon=_files),
    _s('configs', ListOf(sv.file_reference('config')), f'{CS}Configs', 'configs by swarm name '
       '(besides uses_config relationships): name or {source, target, uid, gid, mode}',
       canon=_files),
    # --- where and how many --------------------------------------------------------
    _s('mode', sv.MODE, 'Plugin.Mode', 'replicated (default), global, replicated-job or '
       'global-job (cannot change in place)', update=RECREATE, default='replicated'),
    _s('replicas', Integer(0, sv.UINT64), 'Plugin.Replicas', 'tasks of a replicated service; '
       'completions of a replicated job'),
    _s('max_concurrent', Integer(1, sv.UINT64), 'Mode.ReplicatedJob.MaxConcurrent',
       'replicated job: tasks at once (default: replicas)'),
    _s('networks', sv.NETWORKS, 'TaskTemplate.Networks', 'networks (besides relationships): '
       'name or {target, aliases, driver_opts}; sent in the task template', canon=_networks),
    _s('endpoint_mode', Text(choices=('vip', 'dnsrr')), 'EndpointSpec.Mode',
       'vip (default: a virtual IP, needs IPVS) or dnsrr (DNS round robin)'),
    _s('ports', sv.PORTS, 'EndpointSpec.Ports', "published ports: '8080:80', a range "
       "'9010-9012:9010-9012' or {target, "
       'published, protocol, mode: ingress|host}', canon=_ports),
    _s('resources', sv.RESOURCES, 'TaskTemplate.Resources', 'limits {cpus, memory, pids} and '
       'reservations {cpus, memory}', compare=SUPERSET, canon=_no_zeros,
       units=sv.RESOURCES_SHOWN),
    _s('placement', sv.PLACEMENT, 'TaskTemplate.Placement', 'constraints, preferences '
       '(spread), max_replicas per node, platforms', compare=SUPERSET, canon=_no_zeros),
    _s('restart_policy', sv.RESTART, 'TaskTemplate.RestartPolicy', 'condition '
       '(none|on-failure|any), delay, max_attempts, window', compare=SUPERSET,
       canon=_no_zeros, units=sv.RESTART_SHOWN),
    _s('log_driver', hv.LOG_CONFIG, 'TaskTemplate.LogDriver', 'logging driver {type, config}',
       canon=lambda v: {'Name': v.get('Name') or v.get('Type'), 'Options': v.get('Options') or
                        v.get('Config') or {}} if isinstance(v, dict) else v),
    _s('update_config', sv.UPDATE_CONFIG, 'UpdateConfig', 'rolling updates: parallelism, '
       'delay, failure_action (pause by default, sent explicitly), monitor, max_failure_ratio, '
       'order', canon=_rollout, units=sv.ROLLOUT_SHOWN),
    _s('rollback_config', sv.ROLLBACK_CONFIG, 'RollbackConfig', 'rollbacks: parallelism, delay, '
       'failure_action (continue|pause), monitor, max_failure_ratio, order', canon=_rollout,
       units=sv.ROLLOUT_SHOWN),
    _s('labels', cv.LABELS, 'Labels', 'service labels (the plugin adds its own)',
       compare=SUPERSET),
    _s('force_update', NON_NEGATIVE, 'TaskTemplate.ForceUpdate', 'change it to restart every '
       'task with an unchanged spec', compare=IGNORE),
    # --- the plugin's own ----------------------------------------------------------
    Option('resolve_image', Text(choices=('always', 'never')), 'plugin', default='always',
           doc='always: pin the image to the digest the registry serves now; never: send it '
               'as written'),
    Option('registry_auth', AUTH, 'plugin', compare=IGNORE,
           doc='registry credentials sent with create and update (secret)'),
], aliases={'environment': 'env', 'secret_environment': 'secret_env', 'args': 'command',
            'working_dir': 'workdir', 'constraints': 'placement'})

# Options whose value needs more than the table to reach the spec.
SPEC_EXTRAS = ('mode', 'replicas', 'max_concurrent', 'env', 'secret_env')

SERVICE_WAIT = OptionTable('converge', [
    Option('wait', FLAG, 'wait', default=True,
           doc='wait until the service runs its current spec (false: return at once)'),
    Option('timeout', Number(0, 10 ** 6, above=True, what='seconds'), 'wait',
           doc='seconds to wait, enforced (default: 120 plus each update batch\'s delay and '
               'monitor, and 30 s a batch)'),
    Option('interval', Number(0.05, 60, what='seconds'), 'wait', default=0.2,
           doc='seconds between looks (the docker CLI: 0.2)'),
    Option('async', FLAG, 'wait', default=False,
           doc='poll through Cloudify retries instead of holding a worker'),
    Option('log_lines', Integer(0, 200), 'wait', default=20,
           doc='log lines of failing tasks quoted in a failure'),
])

SCALE = OptionTable('scale', [
    Option('replicas', Integer(0, sv.UINT64), 'scale', required=True,
           doc='the new number of tasks (required)'),
])

LOGS = OptionTable('service_logs', [
    Option('tail', Integer(1, 100000), 'logs', default=100, doc='lines per task'),
    Option('since', Integer(0), 'logs', doc='unix time of the oldest line'),
    Option('timestamps', FLAG, 'logs', default=False, doc='prefix each line with its time'),
    Option('max_bytes', Integer(1000, 10 ** 7), 'logs', default=64000,
           doc='bytes kept (the end of the output)'),
    Option('timeout', Number(0, 3600, above=True, what='seconds'), 'logs', default=30.0,
           doc='seconds to read for'),
])

# Properties of the uses_secret and uses_config relationships.
FILE_USE = OptionTable('file_use', [
    Option('target', Text(non_empty=True, max_len=4096), 'file',
           doc='file name in the task (secrets: under /run/secrets; default: the node name)'),
    Option('uid', Text(pattern=r'[0-9]{1,10}', what='a numeric user id'), 'file',
           doc="owner's user id (default 0)"),
    Option('gid', Text(pattern=r'[0-9]{1,10}', what='a numeric group id'), 'file',
           doc="owner's group id (default 0)"),
    Option('mode', Integer(0, 0o7777), 'file', doc='file mode (default 0444)'),
])
