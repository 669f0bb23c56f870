"""Every container option through drift, against the real engine: one row per option.

Each row is run as the peers run their option tests: install with the first
value (and, where the row says, the engine must hold exactly ``stored`` at
the option's inspect path: an oracle written by hand, independent of both
the SDK and the option table); no drift; configure again, and the same
container is kept with no drift; declare the second value, and drift names
exactly that option (or nothing, for a second value that means the same);
``update`` applies it in place where the table says the engine can (then no
drift), or refuses naming it. A new option joins by adding a row; an option
without a row is in ``NOT_HERE`` with the reason, and a test keeps the two
lists complete. Then: comparisons, image names and defaults, networks
connected by hand, what this kernel discards, and changes made by hand.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from typing import Any, Mapping

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.options.base import Compare
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import drift
from docker_plugin.tasks.container import lifecycle as container_state

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'
SLEEP = ['sleep', '300']
ABSENT = object()  # not declared at all
DISK = next((d for d in ('/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/xvda')
             if os.path.exists(d)), None)
# Whether this kernel has a block IO weight (cgroup v1: blkio.weight, or BFQ's); None: not
# known here (cgroup v2 keeps it per cgroup).
IO_WEIGHT = (os.path.exists('/sys/fs/cgroup/blkio/blkio.weight') or os.path.exists(
    '/sys/fs/cgroup/blkio/blkio.bfq.weight')) if os.path.isdir('/sys/fs/cgroup/blkio') else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


PORT_A, PORT_B = _free_port(), _free_port()


@dataclasses.dataclass(frozen=True)
class Written:
    """An env file with this text; the row's value is its path."""

    text: str


@dataclasses.dataclass(frozen=True)
class Row:
    """One option's apply / again / change.

    Attributes:
        option: the container_config key.
        first: the value installed (ABSENT: not declared).
        second: the value declared next (ABSENT: the row only installs and repeats).
        stored: what inspect must hold at the option's path for ``first`` (ABSENT: not
            checked); where the engine adds to a value (a superset), what it must hold
            at least.
        extra: options both configurations carry.
        drifts: what drift names for ``second`` (None: the option itself; () nothing:
            the second value means the same as the first).
        in_place: whether update applies ``second`` in place (None: as the table says).
        tag: tells rows of one option apart.
    """

    option: str
    first: Any
    second: Any
    stored: Any = ABSENT
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    drifts: tuple[str, ...] | None = None
    in_place: bool | None = None
    tag: str = ''

    @property
    def id(self) -> str:
        return f'{self.option}-{self.tag}' if self.tag else self.option


BIND_TMPFS = {'Type': 'tmpfs', 'Target': '/t'}
ROWS = [
    # --- the create call's body ----------------------------------------------------
    Row('command', ['sleep', '300'], ['sleep', '301'], stored=['sleep', '300']),
    Row('entrypoint', ['sh', '-c'], ['/bin/sh', '-c'], extra={'command': ['sleep 300']},
        stored=['sh', '-c']),
    Row('environment', {'A': '1'}, {'A': '2'}, stored=['A=1']),
    Row('environment', ['A=1', 'B=2'], {'B': '2', 'A': '1'}, drifts=(), tag='forms'),
    Row('secret_environment', {'S': 'one'}, {'S': 'two'}, drifts=('environment',)),
    Row('env_file', Written('A=1\n# comment\n\nB=x=y\n'), Written('A=2\nB=x=y\n'),
        drifts=('environment',)),
    Row('env_file', Written('A=file\n'), Written('A=file2\n'), extra={'environment': {'A': 'x'}},
        drifts=(), tag='environment-wins'),
    Row('ports', [9001, '9002/udp'], [9001, '9003/udp'],
        stored={'9001/tcp': {}, '9002/udp': {}}),
    Row('ports', ['9010-9012/udp'], ['9010-9013/udp'],
        stored={'9010/udp': {}, '9011/udp': {}, '9012/udp': {}}, tag='range'),
    Row('volumes', ['/v1'], ['/v2'], stored={'/v1': {}}),
    Row('name', 'drift-a', 'drift-b'),
    Row('hostname', 'h1', 'h2', stored='h1'),
    Row('domainname', 'one.example', 'two.example', stored='one.example'),
    Row('user', '0', 1000, stored='0'),
    Row('working_dir', '/tmp', '/', stored='/tmp'),
    Row('labels', {'x': '1'}, {'x': '2'}, stored={'x': '1'}),
    Row('stdin_open', True, False, stored=True),
    Row('tty', True, False, stored=True),
    Row('network_disabled', True, False, stored=True,
        drifts=('network_disabled', 'networks.bridge')),
    Row('mac_address', '02:42:ac:11:00:99', '02:42:ac:11:00:9a', stored='02:42:ac:11:00:99'),
    Row('mac_address', '02:42:ac:11:00:99', '02:42:AC:11:00:99', drifts=(), tag='case'),
    Row('stop_signal', 'SIGTERM', 'SIGUSR1', stored='SIGTERM'),
    Row('stop_signal', 'TERM', 'SIGTERM', drifts=(), tag='spelling'),
    Row('stop_timeout', 3, 4, stored=3),
    Row('healthcheck', {'test': ['CMD', 'true'], 'interval': '30s'},
        {'test': ['CMD', 'true'], 'interval': '31s'},
        stored={'Test': ['CMD', 'true'], 'Interval': 30 * 10 ** 9}),
    Row('healthcheck', {'test': 'true'}, {'test': 'false'},
        stored={'Test': ['CMD-SHELL', 'true']}, tag='shell'),
    # --- HostConfig -------------------------------------------------------------------
    Row('port_bindings', {80: ['127.0.0.1', PORT_A]}, {80: ['127.0.0.1', PORT_B]},
        stored={'80/tcp': [{'HostIp': '127.0.0.1', 'HostPort': str(PORT_A)}]}),
    Row('port_bindings', [f'127.0.0.1:{PORT_A}:53/udp'], [f'127.0.0.1:{PORT_B}:53/udp'],
        stored={'53/udp': [{'HostIp': '127.0.0.1', 'HostPort': str(PORT_A)}]}, tag='cli'),
    Row('port_bindings', ['127.0.0.1::9010-9011'], ['127.0.0.1::9010-9012'],
        stored={'9010/tcp': [{'HostIp': '127.0.0.1', 'HostPort': ''}],
                '9011/tcp': [{'HostIp': '127.0.0.1', 'HostPort': ''}]}, tag='range'),
    Row('publish_all_ports', True, False, extra={'ports': [80]}, stored=True),
    Row('binds', ['/tmp:/data:ro'], ['/tmp:/data:rw'], stored=['/tmp:/data:ro']),
    Row('binds', ['/tmp:/b'], {'/tmp': {'bind': '/b', 'mode': 'rw'}}, drifts=(),
        tag='forms'),
    Row('mounts', [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '1m'}],
        [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '2m'}],
        stored=[{**BIND_TMPFS, 'TmpfsOptions': {'SizeBytes': 1024 ** 2}}]),
    Row('mounts', [{'target': '/t', 'type': 'tmpfs', 'tmpfs_mode': '1777'}],
        [{'target': '/t', 'type': 'tmpfs', 'tmpfs_mode': '0700'}],
        stored=[{**BIND_TMPFS, 'TmpfsOptions': {'Mode': 0o1777}}], tag='mode'),
    Row('mounts', [{'target': '/b', 'source': '/tmp', 'type': 'bind', 'propagation': 'private'}],
        [{'target': '/b', 'source': '/tmp', 'type': 'bind', 'propagation': 'rprivate'}],
        stored=[{'Type': 'bind', 'Source': '/tmp', 'Target': '/b',
                 'BindOptions': {'Propagation': 'private'}}], tag='propagation'),
    Row('mounts', ['/tmp:/b:ro'], [{'target': '/b', 'source': '/tmp', 'type': 'bind',
                                    'read_only': True}], drifts=(), tag='forms'),
    Row('volumes_from', ['{peer}'], ['{peer}:ro'], stored=['{peer}']),
    Row('volume_driver', 'local', '', stored='local'),
    Row('tmpfs', {'/run': 'size=1m'}, {'/run': 'size=2m'}, stored={'/run': 'size=1m'}),
    Row('tmpfs', {'/run': 'size=1m,mode=1777'}, ['/run:mode=1777,size=1024k'], drifts=(),
        tag='forms'),
    Row('network_mode', 'bridge', 'none', stored='bridge'),
    Row('dns', ['10.0.0.1'], ['10.0.0.2'], stored=['10.0.0.1']),
    Row('dns_search', ['a.example'], ['b.example'], stored=['a.example']),
    Row('dns_opt', ['ndots:1'], ['ndots:2'], stored=['ndots:1']),
    Row('dns_opt', ['ndots:2', 'rotate'], ['rotate', 'ndots:2'], drifts=(), tag='order'),
    Row('extra_hosts', {'peer': '10.0.0.1'}, {'peer': '10.0.0.2'}, stored=['peer:10.0.0.1']),
    Row('restart_policy', 'on-failure:2', 'on-failure:3',
        stored={'Name': 'on-failure', 'MaximumRetryCount': 2}),
    Row('privileged', False, True, stored=False),
    Row('cap_add', ['NET_ADMIN'], ['SYS_TIME'], stored=['NET_ADMIN']),
    Row('cap_drop', ['MKNOD'], ['CHOWN'], stored=['MKNOD']),
    Row('devices', ['/dev/null:/dev/mynull'], ['/dev/null:/dev/mynull:r'],
        stored=[{'PathOnHost': '/dev/null', 'PathInContainer': '/dev/mynull',
                 'CgroupPermissions': 'rwm'}]),
    Row('device_cgroup_rules', ['c 1:3 rwm'], ['c 1:3 r'], stored=['c 1:3 rwm']),
    Row('read_only', True, False, stored=True),
    Row('security_opt', ['no-new-privileges'], ['no-new-privileges:false'],
        stored=['no-new-privileges']),
    Row('security_opt', ['no-new-privileges'], ['label:disable', 'no-new-privileges'],
        extra={'pid_mode': 'host'}, stored=['no-new-privileges', 'label=disable'],
        drifts=(), tag='engine-adds'),
    Row('pid_mode', 'host', '', stored='host'),
    Row('ipc_mode', 'private', 'shareable', stored='private'),
    Row('uts_mode', 'host', ABSENT, stored='host'),
    Row('uts_mode', ABSENT, 'host', tag='declared-later'),
    Row('userns_mode', 'host', ABSENT, stored='host'),
    Row('userns_mode', ABSENT, 'host', tag='declared-later'),
    Row('cgroupns', 'private', 'host', stored='private'),
    Row('cgroup_parent', '/docker', '/docker-plugin-test', stored='/docker'),
    Row('group_add', ['10'], ['11'], stored=['10']),
    Row('ulimits', [{'name': 'nofile', 'soft': 1024, 'hard': 2048}],
        [{'name': 'nofile', 'soft': 1000, 'hard': 2048}],
        stored=[{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]),
    Row('log_config', {'type': 'json-file', 'config': {'max-size': '1m'}},
        {'type': 'json-file', 'config': {'max-size': '2m'}},
        stored={'Type': 'json-file', 'Config': {'max-size': '1m'}}),
    Row('sysctls', {'net.ipv4.tcp_syncookies': '1'}, {'net.ipv4.tcp_syncookies': '0'},
        stored={'net.ipv4.tcp_syncookies': '1'}),
    Row('shm_size', '64m', '32m', stored=64 * 1024 ** 2),
    Row('storage_opt', ABSENT, {'size': '1G'}, tag='declared-later'),
    Row('runtime', 'runc', 'io.containerd.runc.v2', stored='runc'),
    Row('init', True, False, stored=True),
    Row('auto_remove', True, False, stored=True),
    Row('isolation', 'default', 'process', stored='default'),
    Row('oom_kill_disable', True, False, extra={'mem_limit': '64m'}, stored=True),
    Row('oom_score_adj', 100, 200, stored=100),
    Row('mem_limit', '64m', '96m', stored=64 * 1024 ** 2),
    Row('mem_reservation', '32m', '16m', stored=32 * 1024 ** 2),
    Row('memswap_limit', '128m', '256m', extra={'mem_limit': '64m'}, stored=128 * 1024 ** 2),
    Row('memswap_limit', '128m', 'unlimited', extra={'mem_limit': '64m'}, tag='unlimited'),
    Row('mem_swappiness', 10, 20, stored=10),
    Row('kernel_memory', '64m', '96m', stored=64 * 1024 ** 2),
    Row('cpu_shares', 512, 256, stored=512),
    Row('cpu_shares', 512, 0, in_place=False, tag='to-zero'),  # the update call keeps 512
    Row('cpu_period', 100000, 50000, stored=100000),
    Row('cpu_quota', 50000, 25000, extra={'cpu_period': 100000}, stored=50000),
    Row('cpu_rt_period', 1000000, 900000, stored=1000000),
    Row('cpu_rt_runtime', 0, 1000, extra={'cpu_rt_period': 1000000}, stored=0),
    Row('cpuset_cpus', '0', '0-1', stored='0'),
    Row('cpuset_mems', '0', '0-0', stored='0'),
    Row('cpu_count', 1, 2, stored=1),
    Row('cpus', 0.5, 0.25, stored=500_000_000),
    Row('nano_cpus', 500_000_000, 250_000_000, stored=500_000_000),
    Row('blkio_weight', 300, 400),
    Row('blkio_weight_device', [{'path': '{disk}', 'weight': 300}],
        [{'path': '{disk}', 'weight': 400}]),
    Row('device_read_bps', [{'path': '{disk}', 'rate': '20m'}],
        [{'path': '{disk}', 'rate': '30m'}], stored=[{'Path': '{disk}', 'Rate': 20 * 1024 ** 2}]),
    Row('device_write_bps', [{'path': '{disk}', 'rate': 1024}],
        [{'path': '{disk}', 'rate': '1k'}], drifts=(), tag='units'),
    Row('device_write_bps', [{'path': '{disk}', 'rate': '1m'}],
        [{'path': '{disk}', 'rate': '2m'}], stored=[{'Path': '{disk}', 'Rate': 1024 ** 2}]),
    Row('device_read_iops', [{'path': '{disk}', 'rate': 100}],
        [{'path': '{disk}', 'rate': 200}], stored=[{'Path': '{disk}', 'Rate': 100}]),
    Row('device_write_iops', [{'path': '{disk}', 'rate': 100}],
        [{'path': '{disk}', 'rate': 200}], stored=[{'Path': '{disk}', 'Rate': 100}]),
    Row('pids_limit', 100, 200, stored=100),
    Row('pids_limit', -1, 0, drifts=(), tag='unlimited'),
    # --- the plugin's own ---------------------------------------------------------------
    Row('paused', True, False, stored=True),
    Row('paused', False, True, stored=False, tag='pause'),
]
# Options without a row here, and why (the comparisons have tests of their own below).
NOT_HERE = {
    'image': 'compared by id and by name: test_image_name_*, test_changes_by_hand_*',
    'detach': 'accepted for compatibility only: containers always start detached',
    'platform': 'not kept in inspect data',
    'networking_config': 'networks come from relationships and are compared there',
    'links': 'the engine rewrites links with both containers\' names: never compared',
    'device_requests': 'needs a GPU and its driver on the engine (unit-tested)',
    'init_path': 'engines up to API 1.29 only',
    'lxc_conf': 'ignored by every engine this plugin speaks to',
    'cpu_percent': 'Windows only (Linux discards it): test_what_the_engine_discards_*',
    'comparisons': 'changes how other options compare: test_comparisons_*',
    'image_comparison': 'changes whose defaults count: test_image_comparison_*',
    'image_name_mismatch': 'changes how the image compares: test_image_name_*',
}


def test_every_option_has_a_row_or_a_reason():
    covered = {row.option for row in ROWS}
    assert covered | set(NOT_HERE) == set(CONTAINER.options), \
        set(CONTAINER.options) ^ (covered | set(NOT_HERE))
    assert not covered & set(NOT_HERE)


@pytest.fixture
def make_ctx(unique):
    def make(config, runtime=None):
        return node_ctx(unique, {'container_config': config, 'container_stop': {'timeout': 0},
                                 'container_remove': {'force': True, 'v': True}}, runtime,
                        node='c', instance=f'{unique}_abc')
    yield make
    current_ctx.clear()


@pytest.fixture
def fill(request, docker_client, unique, labelled, tmp_path):
    """Puts the row's placeholders in: a peer container, the disk, env files."""
    names: dict[str, str] = {}

    def resolve(value: Any) -> Any:
        if isinstance(value, Written):
            path = tmp_path / f'{len(list(tmp_path.iterdir()))}.env'
            path.write_text(value.text)
            return str(path)
        if isinstance(value, str) and '{peer}' in value and 'peer' not in names:
            peer = docker_client.containers.create(BASE, SLEEP, name=f'{unique}-peer',
                                                   labels=labelled, volumes=['/shared'])
            names['peer'] = peer.name
        if isinstance(value, str) and '{disk}' in value:
            if DISK is None:
                pytest.skip('no block device to throttle on this machine')
            names['disk'] = DISK
        if isinstance(value, str):
            return value.format(**names) if '{' in value else value
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {resolve(k): resolve(v) for k, v in value.items()}
        return value
    return resolve


def _config(row: Row, value: Any, unique: str, labelled: Mapping[str, str], fill) -> dict:
    config = {'image': BASE, 'command': SLEEP, 'labels': dict(labelled), **fill(row.extra)}
    if value is ABSENT:
        return config
    value = fill(value)
    if row.option == 'name':
        value = f'{unique}-{value}'
    if row.option == 'labels':
        value = {**labelled, **value}
    config[row.option] = value
    return config


def _holds(option_name: str, stored: Any, info: Mapping[str, Any]) -> None:
    """The engine holds exactly ``stored`` (at least, where it adds to the value)."""
    option = CONTAINER.options[option_name]
    actual = drift.get_path(info, option.read)
    if option.compare is Compare.SUPERSET:
        assert drift.contains(stored, actual), (stored, actual)
    else:
        assert actual == stored, (stored, actual)


@pytest.mark.parametrize('row', ROWS, ids=lambda row: row.id)
def test_option_apply_again_and_change(row, make_ctx, docker_client, unique, labelled, fill):
    option = CONTAINER.options[row.option]
    ctx = make_ctx(_config(row, row.first, unique, labelled, fill))
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    props = ctx.instance.runtime_properties
    container_id = props['container_id']
    try:
        if row.stored is not ABSENT:
            _holds(row.option, fill(row.stored), docker_client.api.inspect_container(
                container_id))
        assert container_state.check_drift(ctx=ctx) == [], 'drift right after install'
        tasks.configure(ctx=ctx)  # again: the same container, unchanged
        assert props['container_id'] == container_id
        assert container_state.check_drift(ctx=ctx) == []
        if row.second is ABSENT:
            return
        changed = _config(row, row.second, unique, labelled, fill)
        found = container_state.check_drift(ctx=ctx, container_config=changed)
        if row.option in (props.get('discarded_options') or []):
            # This kernel cannot apply it: said once at create, and never drift.
            assert found == [] and container_state.update(ctx=ctx, container_config=changed) \
                == []
            return
        expected = [row.option] if row.drifts is None else list(row.drifts)
        assert [d['option'] for d in found] == expected, found
        if not found:
            return
        assert found[0]['desired'] is not None, found  # declared values are shown, even false
        in_place = option.updatable if row.in_place is None else row.in_place
        assert found[0]['updatable'] is in_place
        if in_place:
            assert container_state.update(ctx=ctx, container_config=changed) == []
            assert container_state.check_drift(ctx=ctx, container_config=changed) == []
        else:
            with pytest.raises(NonRecoverableError, match=rf'^{found[0]["option"]} changed'):
                container_state.update(ctx=ctx, container_config=changed)
    finally:
        tasks.delete(ctx=ctx)
    assert docker_client.containers.list(all=True, filters={'id': container_id}) == []


def _install(make_ctx, config):
    ctx = make_ctx(config)
    tasks.configure(ctx=ctx)
    tasks.run(ctx=ctx)
    return ctx


# ------------------------------------------------------------------ what this kernel discards
def test_what_the_engine_discards_is_said_once_and_not_drift(make_ctx, labelled, caplog):
    """Linux discards cpu_percent (a Windows option); a kernel without an IO weight
    (no BFQ or CFQ scheduler, as here) discards blkio_weight. The engine warns and
    keeps nothing; the plugin says so once and leaves them out of drift."""
    caplog.set_level(logging.INFO)
    ctx = _install(make_ctx, {'image': BASE, 'command': SLEEP, 'labels': labelled,
                              'blkio_weight': 300, 'cpu_percent': 50, 'cpu_shares': 512})
    props = ctx.instance.runtime_properties
    try:
        discarded = props.get('discarded_options') or []
        assert 'cpu_percent' in discarded and 'cpu_shares' not in discarded
        if IO_WEIGHT is not None:
            assert ('blkio_weight' in discarded) is not IO_WEIGHT, discarded
        said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and
                'not compared for drift' in r.getMessage()]
        assert len(said) == 1 and all(name in said[0] for name in discarded), said
        assert container_state.check_drift(ctx=ctx) == []
        if 'blkio_weight' in discarded:
            # Recorded before the plugin knew (an older release): update finds it out.
            props['discarded_options'] = ['cpu_percent']
            assert [d['option'] for d in container_state.check_drift(ctx=ctx)] == [
                'blkio_weight']
            caplog.clear()
            assert container_state.update(ctx=ctx) == []
            lines = [r.getMessage() for r in caplog.records]
            assert not [line for line in lines if 'updated' in line], lines  # never "applied"
            assert len([line for line in lines if 'not compared for drift' in line]) == 1
            assert sorted(props['discarded_options']) == ['blkio_weight', 'cpu_percent']
        assert container_state.check_drift(ctx=ctx) == []
    finally:
        tasks.delete(ctx=ctx)


# ------------------------------------------------------------------ comparisons
@pytest.fixture
def image_with_defaults(docker_client, unique, labelled, tmp_path):
    """An image with an environment, labels, ports and a volume of its own."""
    (tmp_path / 'Dockerfile').write_text(
        f'FROM {BASE}\nENV FROM_IMAGE=1\nLABEL from.image=yes\nEXPOSE 443\nVOLUME /data\n')
    image, _ = docker_client.images.build(path=str(tmp_path), labels=labelled, rm=True)
    tag = f'docker-plugin-test/{unique}:defaults'
    image.tag(tag)
    yield tag
    docker_client.images.remove(tag)


def test_comparisons_strict_counts_the_image_and_the_plugin(make_ctx, labelled,
                                                            image_with_defaults):
    config = {'image': image_with_defaults, 'command': SLEEP, 'labels': labelled,
              'environment': {'A': '1'}, 'ports': [80], 'volumes': ['/v'],
              'port_bindings': {81: None}, 'comparisons': {'*': 'strict'}}
    ctx = _install(make_ctx, config)
    try:
        assert container_state.check_drift(ctx=ctx) == []
        more = {**config, 'environment': {'A': '1', 'B': '2'}}
        assert [d['option'] for d in container_state.check_drift(
            ctx=ctx, container_config=more)] == ['environment']
        # Declared fewer: strict sees what is left over, the default does not.
        fewer = {**config, 'volumes': []}
        assert [d['option'] for d in container_state.check_drift(
            ctx=ctx, container_config=fewer)] == ['volumes']
        default = {k: v for k, v in fewer.items() if k != 'comparisons'}
        assert container_state.check_drift(ctx=ctx, container_config=default) == []
        ignored = {**more, 'comparisons': {'environment': 'ignore'}}
        assert container_state.check_drift(ctx=ctx, container_config=ignored) == []
    finally:
        tasks.delete(ctx=ctx)


def test_comparisons_networks_strict_sees_one_connected_by_hand(make_ctx, docker_client,
                                                                labelled, unique):
    other = docker_client.networks.create(f'{unique}-byhand', labels=labelled)
    config = {'image': BASE, 'command': SLEEP, 'labels': labelled}
    ctx = _install(make_ctx, config)
    try:
        other.connect(ctx.instance.runtime_properties['container_id'])
        assert container_state.check_drift(ctx=ctx) == []
        strict = {**config, 'comparisons': {'networks': 'strict'}}
        (found,) = container_state.check_drift(ctx=ctx, container_config=strict)
        assert (found['option'], found['updatable']) == (f'networks.{other.name}', True)
        assert container_state.update(ctx=ctx, container_config=strict) == []
        other.reload()
        assert other.containers == []
        assert container_state.check_drift(ctx=ctx, container_config=strict) == []
    finally:
        tasks.delete(ctx=ctx)


def test_image_name_mismatch_is_drift_unless_ignored(make_ctx, docker_client, labelled,
                                                     unique):
    """The same image under another name: drift (it needs a new container), by default."""
    other = f'docker-plugin-test/{unique}:other-name'
    docker_client.images.get(BASE).tag(other)
    config = {'image': BASE, 'command': SLEEP, 'labels': labelled}
    ctx = _install(make_ctx, config)
    try:
        assert container_state.check_drift(
            ctx=ctx, container_config={**config, 'image': 'docker-plugin/busybox'}) == []
        renamed = {**config, 'image': other}
        (found,) = container_state.check_drift(ctx=ctx, container_config=renamed)
        assert (found['option'], found['path'], found['actual']) == ('image', 'Config.Image',
                                                                    BASE)
        with pytest.raises(NonRecoverableError, match=r'^image changed'):
            container_state.update(ctx=ctx, container_config=renamed)
        assert container_state.check_drift(ctx=ctx, container_config={
            **renamed, 'image_name_mismatch': 'ignore'}) == []
        assert container_state.check_drift(ctx=ctx, container_config={
            **renamed, 'comparisons': {'image': 'ignore'}}) == []
    finally:
        tasks.delete(ctx=ctx)
        docker_client.images.remove(other)


def test_image_comparison_picks_whose_defaults_count(make_ctx, docker_client, labelled,
                                                     unique, tmp_path):
    """A tag moved to an image with another environment: with desired-image the
    environment differs from the new image's defaults too; with current-image only the
    image itself is drift."""
    tag = f'docker-plugin-test/{unique}:moving'
    docker_client.images.get(BASE).tag(tag)
    (tmp_path / 'Dockerfile').write_text(f'FROM {BASE}\nENV ADDED=1\n')
    moved, _ = docker_client.images.build(path=str(tmp_path), labels=labelled, rm=True)
    config = {'image': tag, 'command': SLEEP, 'labels': labelled, 'environment': {'A': '1'},
              'comparisons': {'environment': 'strict'}}
    ctx = _install(make_ctx, config)
    try:
        assert container_state.check_drift(ctx=ctx) == []
        moved.tag(tag)
        assert sorted(d['option'] for d in container_state.check_drift(ctx=ctx)) == [
            'environment', 'image']
        current = {**config, 'image_comparison': 'current-image'}
        assert [d['option'] for d in container_state.check_drift(
            ctx=ctx, container_config=current)] == ['image']
    finally:
        tasks.delete(ctx=ctx)
        docker_client.images.remove(tag)


def test_a_paused_container_is_healthy_when_declared_paused(make_ctx, docker_client,
                                                            labelled):
    ctx = _install(make_ctx, {'image': BASE, 'command': SLEEP, 'labels': labelled,
                              'paused': True})
    container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    try:
        assert container.attrs['State']['Paused'] is True
        assert ctx.instance.runtime_properties['state'] == 'paused'
        container_state.check_status(ctx=ctx)
        with pytest.raises(NonRecoverableError, match='paused'):
            container_state.check_status(ctx=ctx, container_config={'image': BASE})
    finally:
        tasks.delete(ctx=ctx)


def test_a_paused_container_is_paused_once_ready_not_before(make_ctx, docker_client,
                                                            labelled):
    """With an asynchronous readiness wait, the pause waits for the wait to end: a paused
    container never writes the log line it is waited for."""
    ctx = make_ctx({'image': BASE, 'labels': labelled, 'paused': True,
                    'command': ['sh', '-c', 'sleep 1; echo ready; sleep 300']})
    wait = {'condition': 'log', 'pattern': 'ready', 'async': True, 'interval': 0.2,
            'timeout': 30}
    tasks.configure(ctx=ctx)
    try:
        tasks.run(ctx=ctx, wait_for=wait)
        container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
        assert container.attrs['State']['Paused'] is False  # still waiting: not paused yet
        assert ctx.operation._operation_retry is not None
        for _ in range(50):
            time.sleep(0.2)
            ctx.operation._operation_retry = None
            tasks.run(ctx=ctx, wait_for=wait)  # what Cloudify's retry does
            if ctx.operation._operation_retry is None:
                break
        container.reload()
        assert container.attrs['State']['Paused'] is True
        assert container_state.check_drift(ctx=ctx) == []
    finally:
        tasks.delete(ctx=ctx)


# ------------------------------------------------------------------ by hand
def test_a_partial_healthcheck_is_no_drift(make_ctx, labelled):
    ctx = _install(make_ctx, {'image': BASE, 'command': SLEEP, 'labels': labelled,
                              'healthcheck': {'test': ['CMD', 'true']}})
    try:
        assert container_state.check_drift(ctx=ctx) == []
    finally:
        tasks.delete(ctx=ctx)


def test_changes_by_hand_are_seen_and_put_back(make_ctx, docker_client, unique, labelled,
                                               tmp_path):
    """A rename, a disconnected network, a pause and a moved tag, made behind Cloudify's
    back."""
    (tmp_path / 'Dockerfile').write_text(f'FROM {BASE}\nLABEL moved=yes\n')
    moved, _ = docker_client.images.build(path=str(tmp_path), labels=labelled,
                                          rm=True)
    tag = f'docker-plugin-test/{unique}:1'
    docker_client.images.get(BASE).tag(tag)
    ctx = _install(make_ctx, {'image': tag, 'command': SLEEP, 'name': f'{unique}-byhand',
                              'labels': labelled, 'paused': False})
    container = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
    try:
        assert container_state.check_drift(ctx=ctx) == []
        container.rename(f'{unique}-renamed')
        docker_client.networks.get('bridge').disconnect(container)
        container.pause()
        found = {d['option']: d for d in container_state.check_drift(ctx=ctx)}
        assert set(found) == {'name', 'networks.bridge', 'paused'}
        assert found['name']['actual'] == f'{unique}-renamed'
        assert (found['paused']['desired'], found['paused']['actual']) == (False, True)
        assert all(d['updatable'] for d in found.values())
        assert container_state.update(ctx=ctx) == []
        container.reload()
        assert container.name == f'{unique}-byhand'
        assert 'bridge' in container.attrs['NetworkSettings']['Networks']
        assert container.attrs['State']['Paused'] is False

        moved.tag(tag)  # the tag now names another image than the container runs
        (found,) = container_state.check_drift(ctx=ctx)
        assert found['option'] == 'image' and found['updatable'] is False
        assert moved.id in found['desired'] and found['actual'] == container.image.id
        with pytest.raises(NonRecoverableError, match=r'^image changed'):
            container_state.update(ctx=ctx)
    finally:
        tasks.delete(ctx=ctx)
        docker_client.images.remove(tag)  # the labelled build goes with the labels fixture


def test_an_image_node_sees_a_moved_tag_and_puts_it_back(docker_client, unique, labelled,
                                                          tmp_path):
    from docker_plugin.tasks.image import lifecycle as image_tasks
    (tmp_path / 'Dockerfile').write_text(f'FROM {BASE}\nLABEL node={unique}\n')
    extra = f'docker-plugin-test/{unique}:extra'
    ctx = node_ctx(unique, {'image_build': {'path': str(tmp_path),
                                            'tag': f'docker-plugin-test/{unique}'},
                            'tags': [extra]}, node='img')
    try:
        image_tasks.create(ctx=ctx)
        image_tasks.check_status(ctx=ctx)
        assert image_tasks.check_drift(ctx=ctx) == []
        docker_client.images.get(BASE).tag(extra)  # by hand: the extra name moves
        (found,) = image_tasks.check_drift(ctx=ctx)
        assert (found['option'], found['path']) == ('tags', extra)
        image_tasks.update(ctx=ctx)
        assert image_tasks.check_drift(ctx=ctx) == []
        assert docker_client.images.get(extra).id == ctx.instance.runtime_properties['image_id']
        image_tasks.delete(ctx=ctx)
        assert docker_client.images.list(filters={'label': f'node={unique}'}) == []
    finally:
        current_ctx.clear()
