"""Every option of a container, declared once.

``create`` options are keywords of the SDK's ``create_container`` (the body's
``Config``, or the call's own arguments: ``keyword=None``); ``host`` options are
keywords of ``create_host_config`` (``HostConfig``); ``plugin`` options are the
plugin's own (how to compare, the env files, the paused state). ``read`` is
where inspect data holds the value and ``stored`` what it holds there for the
declared value, ``compare`` how drift compares it (``comparisons`` overrides
that per option), ``update`` whether the engine changes it in place. The
seed's ``container_start`` carries ``host`` options only.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.options import container_values as v
from docker_plugin.options import host_values as h
from docker_plugin.options import mounts as m
from docker_plugin.options import ports as p
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.options.checks import (
    FLAG,
    NON_NEGATIVE,
    SCALAR_MAP,
    TEXT,
    TEXT_LIST,
    TEXT_MAP,
    AnyOf,
    Custom,
    Integer,
    ListOf,
    Text,
)
from docker_plugin.options.comparisons import COMPARISON_MODES, comparisons_check
from docker_plugin.options.units import CPUS_SHOWN, IP, SIZE, SIZE_SHOWN, SWAP_SHOWN

SUPERSET, SET, IGNORE = Compare.SUPERSET, Compare.SET, Compare.IGNORE
IN_PLACE = Update.UPDATE_CALL
NAME_PATTERN = r'[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}'
CONTAINER_NAME = Text(pattern=NAME_PATTERN, what='a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)')
ABS_PATH = Text(pattern=r'(/|[A-Za-z]:\\)[^\x00]*', what='an absolute path')
CPUSET = Text(pattern=r'[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*', what="CPUs like '0-1,3'")
MAC = Text(pattern=r'([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}', what='a MAC address')
CAPABILITY = Text(pattern=r'[A-Za-z_]{1,64}', what='a capability like NET_ADMIN')
NAMESPACE = Text(pattern=r'|host|private|shareable|none|container:.+',
                 what="host, private, shareable, none or 'container:<name>'")
# The engine fills in its default IPC mode for '' (private here): name one.
IPC_NAMESPACE = Text(pattern=r'host|private|shareable|none|container:.+',
                     what="host, private, shareable, none or 'container:<name>'")
IMAGE_COMPARISON = ('desired-image', 'current-image')


def _no_slash(value: Any) -> Any:
    return value.lstrip('/') if isinstance(value, str) else value


def _network_mode(value: Any) -> Any:
    return 'bridge' if value in ('default', '', None) else value


def _flag(value: Any) -> Any:
    """A flag the engine leaves unset (null) is false."""
    return value is True


def _cap(value: Any) -> Any:
    if isinstance(value, list):
        names = (str(c).upper() for c in value)
        return sorted({n[4:] if n.startswith('CAP_') else n for n in names})
    return value


def _ulimits(value: Any) -> Any:
    if isinstance(value, list):
        return sorted((u.get('Name'), u.get('Soft'), u.get('Hard'))
                      for u in value if isinstance(u, dict))
    return value


def _bindings(value: Any) -> Any:
    if isinstance(value, dict):
        return {port: sorted((b.get('HostIp') or '', str(b.get('HostPort') or ''))
                             for b in (bindings or [])) for port, bindings in value.items()}
    return value


def _volumes(value: Any) -> dict[str, dict]:
    return {path: {} for path in ([value] if isinstance(value, str) else value)}


def _c(name: str, check: Any, read: str | None, doc: str, **kw: Any) -> Option:
    if check is FLAG:
        kw.setdefault('canon', _flag)
    return Option(name, check, 'create', read=read and f'Config.{read}', doc=doc, **kw)


def _h(name: str, check: Any, read: str | None, doc: str, **kw: Any) -> Option:
    if check is FLAG:
        kw.setdefault('canon', _flag)
    return Option(name, check, 'host', read=read and f'HostConfig.{read}', doc=doc, **kw)


def _p(name: str, check: Any, doc: str, **kw: Any) -> Option:
    """The plugin's own: never sent to the engine as it is."""
    return Option(name, check, 'plugin', keyword=None, doc=doc, **kw)


CONTAINER: OptionTable = OptionTable('container', [
    # --- the create call's own arguments and its body ---------------------------------
    Option('image', Text(non_empty=True), 'create', keyword=None, compare=IGNORE,
           doc='image to run; defaults to the image made by create (drift: the id its '
               'reference points at, and its name; see image_comparison, image_name_mismatch)'),
    _c('command', v.COMMAND, 'Cmd', 'command to run'),
    _c('entrypoint', v.COMMAND, 'Entrypoint', 'entrypoint override'),
    _c('environment', v.ENVIRONMENT, 'Env', 'environment variables (over those of env_file)',
       compare=SUPERSET, show_values=False, stored=v.env_list, image_default='Env'),
    _p('secret_environment', v.SECRET_ENVIRONMENT, 'environment variables whose values are '
       'secrets (e.g. from get_secret): masked everywhere; compared with the environment',
       compare=IGNORE, secret=True),
    _p('env_file', v.ENV_FILES, 'files of NAME=value lines (relative to the blueprint) read '
       'into the environment; environment wins on the same name; compared with the '
       'environment', compare=IGNORE),
    _c('ports', p.PORTS, 'ExposedPorts', "container ports to expose: 80, '53/udp', "
       "'9010-9050'", compare=SUPERSET, stored=p.exposed_ports, image_default='ExposedPorts'),
    _c('volumes', AnyOf(Text(non_empty=True), ListOf(Text(non_empty=True))), 'Volumes',
       'container paths to declare as anonymous volumes', compare=SUPERSET, stored=_volumes,
       image_default='Volumes'),
    Option('name', CONTAINER_NAME, 'create', read='Name', canon=_no_slash, update=Update.RENAME,
           keyword=None, doc='container name (per instance when there are several)'),
    _c('hostname', Text(pattern=r'[A-Za-z0-9][A-Za-z0-9.-]{0,253}', what='a host name'),
       'Hostname', 'host name inside the container'),
    _c('domainname', Text(max_len=255), 'Domainname', 'domain name inside the container'),
    _c('user', h.TEXT_OR_NUMBER, 'User', 'user (name or uid[:gid]) to run as'),
    _c('working_dir', ABS_PATH, 'WorkingDir', 'working directory (absolute)'),
    _c('labels', v.LABELS, 'Labels', 'container labels', compare=SUPERSET,
       image_default='Labels'),
    _c('stdin_open', FLAG, 'OpenStdin', 'keep stdin open'),
    _c('tty', FLAG, 'Tty', 'allocate a pseudo-TTY'),
    _p('detach', FLAG, 'accepted for compatibility; containers always start detached',
       compare=IGNORE),
    _c('network_disabled', FLAG, 'NetworkDisabled', 'disable networking'),
    _c('mac_address', MAC, 'MacAddress', 'MAC address', canon=lambda m: m.lower()
       if isinstance(m, str) else m),
    _c('stop_signal', v.SIGNAL, 'StopSignal', 'signal that stops the container',
       canon=v.signal_canon),
    _c('stop_timeout', Integer(-1, 10 ** 7), 'StopTimeout',
       'seconds the engine waits on stop before killing'),
    _c('healthcheck', v.HEALTHCHECK, 'Healthcheck', 'healthcheck: test, interval, timeout, '
       "retries, start_period (durations like '5s')", compare=SUPERSET,
       stored=v.stored_healthcheck, units=v.HEALTHCHECK_SHOWN),
    Option('platform', Text(pattern=r'[a-z0-9_]+(/[a-z0-9_]+){0,2}', what='os[/arch[/variant]]'),
           'create', keyword=None, compare=IGNORE, min_api=(1, 41),
           doc='platform, e.g. linux/amd64 (not kept in inspect data)'),
    Option('networking_config', Custom((dict,), lambda value, path: value, 'a dictionary'),
           'create', keyword=None, compare=IGNORE,
           doc='raw NetworkingConfig body (networks from relationships are compared instead)'),
    # --- HostConfig -----------------------------------------------------------------
    _h('port_bindings', p.PORT_BINDINGS, 'PortBindings',
       "container port -> host port, [ip, port] or a list of them; or the docker CLI's "
       "['127.0.0.1:8080:80', '9010-9050:9010-9050/udp']", canon=_bindings,
       stored=p.stored_bindings),
    _h('publish_all_ports', FLAG, 'PublishAllPorts', 'publish every exposed port'),
    _h('binds', m.BINDS, 'Binds', "bind mounts: {host: {bind, mode}} or ['host:ctr:ro']",
       compare=SET, canon=m.binds_canon),
    _h('mounts', m.MOUNTS, 'Mounts', 'mounts: target, source, type, read_only, consistency, '
       'propagation, non_recursive, no_copy, labels, driver_config, tmpfs_size, tmpfs_mode '
       '(every field compared)', canon=m.mounts_canon, min_api=(1, 30)),
    _h('volumes_from', ListOf(Text(non_empty=True)), 'VolumesFrom',
       'containers whose volumes to mount', compare=SET),
    _h('volume_driver', Text(max_len=255), 'VolumeDriver', 'volume driver'),
    _h('tmpfs', m.TMPFS, 'Tmpfs', 'tmpfs mounts (options compared in any order, sizes in '
       'bytes)', canon=m.tmpfs_canon),
    _h('network_mode', Text(non_empty=True, max_len=4096), 'NetworkMode',
       'bridge, host, none, container:<id> or a network name', canon=_network_mode),
    _h('links', h.LINKS, None, 'legacy links {container: alias} (the engine rewrites them: '
       'not compared)', compare=IGNORE),
    _h('dns', ListOf(IP), 'Dns', 'DNS servers (in order)'),
    _h('dns_search', TEXT_LIST, 'DnsSearch', 'DNS search domains (in order)'),
    _h('dns_opt', TEXT_LIST, 'DnsOptions', 'DNS options (in any order)', compare=SET),
    _h('extra_hosts', h.EXTRA_HOSTS, 'ExtraHosts', 'extra /etc/hosts entries', compare=SET),
    _h('restart_policy', v.RESTART_POLICY, 'RestartPolicy',
       "restart policy: 'on-failure:3' or {name, maximum_retry_count}", update=IN_PLACE),
    _h('privileged', FLAG, 'Privileged', 'privileged mode'),
    _h('cap_add', ListOf(CAPABILITY), 'CapAdd', 'capabilities to add', canon=_cap),
    _h('cap_drop', ListOf(CAPABILITY), 'CapDrop', 'capabilities to drop', canon=_cap),
    _h('devices', h.DEVICES, 'Devices', "host devices: '/dev/x[:/dev/y][:rwm]'",
       canon=h.devices_canon),
    _h('device_requests', h.DEVICE_REQUESTS, 'DeviceRequests', 'device requests (GPUs)',
       min_api=(1, 40)),
    _h('device_cgroup_rules', TEXT_LIST, 'DeviceCgroupRules', 'device cgroup rules',
       compare=SET),
    _h('read_only', FLAG, 'ReadonlyRootfs', 'read-only root file system'),
    _h('security_opt', TEXT_LIST, 'SecurityOpt', 'security options (the engine adds '
       'label=disable with a host PID or IPC namespace: more present is no drift)',
       compare=SUPERSET, canon=h.security_canon),
    _h('pid_mode', NAMESPACE, 'PidMode', 'PID namespace'),
    _h('ipc_mode', IPC_NAMESPACE, 'IpcMode', 'IPC namespace'),
    _h('uts_mode', Text(choices=('host',)), 'UTSMode', 'UTS namespace'),
    _h('userns_mode', Text(choices=('host',)), 'UsernsMode', 'user namespace'),
    _h('cgroupns', Text(choices=('private', 'host')), 'CgroupnsMode', 'cgroup namespace',
       min_api=(1, 41)),
    _h('cgroup_parent', Text(max_len=4096), 'CgroupParent', 'parent cgroup'),
    _h('group_add', ListOf(h.GROUP), 'GroupAdd', 'extra groups (names the image knows, or '
       'numbers)', compare=SET),
    _h('ulimits', h.ULIMITS, 'Ulimits', 'ulimits: {name, soft, hard}', canon=_ulimits),
    _h('log_config', h.LOG_CONFIG, 'LogConfig', 'logging driver: {type, config}'),
    _h('sysctls', SCALAR_MAP, 'Sysctls', 'kernel parameters'),
    _h('shm_size', h.SHM_SIZE, 'ShmSize', 'size of /dev/shm', units=SIZE_SHOWN),
    _h('storage_opt', TEXT_MAP, 'StorageOpt', 'storage driver options'),
    _h('runtime', Text(non_empty=True, max_len=255), 'Runtime', 'OCI runtime (runc, ...)'),
    _h('init', FLAG, 'Init', 'run an init process as PID 1', min_api=(1, 25)),
    _h('init_path', TEXT, None, 'path of the init binary (engines up to API 1.29)',
       compare=IGNORE, max_api=(1, 29)),
    _h('auto_remove', FLAG, 'AutoRemove', 'remove the container when it exits'),
    _h('isolation', Text(choices=('default', 'process', 'hyperv')), 'Isolation',
       'isolation technology'),
    _h('oom_kill_disable', FLAG, 'OomKillDisable', 'disable the OOM killer'),
    _h('oom_score_adj', Integer(-1000, 1000), 'OomScoreAdj', 'OOM score adjustment'),
    _h('lxc_conf', TEXT_MAP, None, 'legacy LXC options (ignored by modern engines)',
       compare=IGNORE),
    _h('mem_limit', SIZE, 'Memory', 'memory limit', update=IN_PLACE, units=SIZE_SHOWN),
    _h('mem_reservation', SIZE, 'MemoryReservation', 'memory soft limit', update=IN_PLACE,
       units=SIZE_SHOWN),
    _h('memswap_limit', h.MEMORY_SWAP, 'MemorySwap', "memory plus swap limit, or 'unlimited'",
       update=IN_PLACE, units=SWAP_SHOWN),
    _h('mem_swappiness', Integer(0, 100), 'MemorySwappiness', 'swappiness 0-100'),
    _h('kernel_memory', SIZE, 'KernelMemory', 'kernel memory limit (deprecated)',
       update=IN_PLACE, units=SIZE_SHOWN),
    _h('cpu_shares', Integer(0, 262144), 'CpuShares', 'relative CPU weight', update=IN_PLACE),
    _h('cpu_period', Integer(0, 1000000), 'CpuPeriod', 'CFS period (us)', update=IN_PLACE),
    _h('cpu_quota', Integer(-1, 10 ** 12), 'CpuQuota', 'CFS quota (us)', update=IN_PLACE),
    _h('cpu_rt_period', Integer(0, 1000000), 'CpuRealtimePeriod', 'realtime period (us)',
       update=IN_PLACE),
    _h('cpu_rt_runtime', Integer(0, 1000000), 'CpuRealtimeRuntime', 'realtime runtime (us)',
       update=IN_PLACE),
    _h('cpuset_cpus', CPUSET, 'CpusetCpus', 'CPUs allowed, e.g. "0-1"', update=IN_PLACE),
    _h('cpuset_mems', CPUSET, 'CpusetMems', 'memory nodes allowed', update=IN_PLACE),
    _h('cpu_count', NON_NEGATIVE, 'CpuCount', 'CPU count (Windows)'),
    _h('cpu_percent', Integer(0, 100), 'CpuPercent', 'CPU percent (Windows)'),
    _h('cpus', h.CPUS, 'NanoCpus', 'CPUs, e.g. 1.5 (the engine keeps it as nano_cpus)',
       update=IN_PLACE, keyword='nano_cpus', units=CPUS_SHOWN),
    _h('nano_cpus', Integer(0, 10 ** 15), 'NanoCpus', 'CPU quota in units of 1e-9 CPUs',
       update=IN_PLACE),
    _h('blkio_weight', Integer(10, 1000), 'BlkioWeight', 'block IO weight (10-1000)',
       update=IN_PLACE),
    _h('blkio_weight_device', h.WEIGHT_DEVICES, 'BlkioWeightDevice', 'per-device IO weight',
       canon=h.throttle_canon),
    _h('device_read_bps', h.BYTE_RATE_DEVICES, 'BlkioDeviceReadBps',
       "read rate limits: [{path, rate: '20m'}]", canon=h.throttle_canon,
       units=h.BYTE_RATES_SHOWN),
    _h('device_write_bps', h.BYTE_RATE_DEVICES, 'BlkioDeviceWriteBps',
       "write rate limits: [{path, rate: '20m'}]", canon=h.throttle_canon,
       units=h.BYTE_RATES_SHOWN),
    _h('device_read_iops', h.IO_RATE_DEVICES, 'BlkioDeviceReadIOps',
       'read IOPS limits: [{path, rate}]', canon=h.throttle_canon),
    _h('device_write_iops', h.IO_RATE_DEVICES, 'BlkioDeviceWriteIOps',
       'write IOPS limits: [{path, rate}]', canon=h.throttle_canon),
    _h('pids_limit', Integer(-1), 'PidsLimit', 'process count limit (0 or -1: unlimited)',
       update=IN_PLACE, canon=h.pids_canon),
    # --- the plugin's own ---------------------------------------------------------------
    Option('paused', FLAG, 'plugin', read='State.Paused', canon=_flag, update=Update.PAUSE,
           keyword=None, doc='keep the container paused once started (and ready); update '
                             'pauses or unpauses it'),
    _p('comparisons', comparisons_check(lambda: CONTAINER, {
        'image': ('strict', 'ignore'), 'networks': COMPARISON_MODES}),
       "how drift compares options: {option: strict|allow_more_present|ignore}; '*' sets "
       'every declared option (strict or ignore); image and networks too', compare=IGNORE),
    _p('image_comparison', Text(choices=IMAGE_COMPARISON), 'whose defaults count when an '
       'environment, labels, ports or volumes compare strictly: desired-image (the image '
       'named now) or current-image (the one the container runs)', compare=IGNORE,
       default='desired-image'),
    _p('image_name_mismatch', Text(choices=('recreate', 'ignore')), 'recreate (default): '
       'an image named otherwise than the container was made from is drift, even with the '
       'same id; ignore: only the id counts', compare=IGNORE, default='recreate'),
], aliases={}, exclusive=[('cpus', 'nano_cpus')])

# container_start takes HostConfig options only, as the seed's start call did.
START_SECTIONS = ('host',)
