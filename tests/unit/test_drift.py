"""Drift comparison, driven by the option tables (no engine).

The desired side is the table's ``stored`` form of each declared value; here
it is checked against the SDK's own rendering of the create call (two
independent renderings must agree), and the comparison rules are checked
against inspect data written by hand.
"""

from __future__ import annotations

import copy

import docker
import pytest

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.options.checks import TEXT
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import drift, networks
from docker_plugin.resources.container import controls
from docker_plugin.resources.container import drift as container_drift
from docker_plugin.resources.container import spec as specs

API = docker.APIClient(version='1.41')
LABELS = {'cloudify.node': 'n'}


def spec_of(raw, start=None, net=None, name='c', file_env=None):
    parts = CONTAINER.validate(raw, 'container_config')
    host = CONTAINER.validate(start or {}, 'container_start', sections=('host',)).get('host', {})
    return specs.build(parts, host, {}, [], net or [], name, file_env)


def engine_of(spec, **changes):
    """Inspect data of an engine that stores exactly what the table says, then changed
    (``None`` removes a path)."""
    found = container_drift.rules(spec)
    view = container_drift.desired_view(spec, LABELS, found, None)
    info = {'Name': '/' + spec.name, 'Image': 'sha256:' + 'a' * 64,
            'Config': {'Image': 'app:1', **view.get('Config', {})},
            'HostConfig': view.get('HostConfig', {}), 'State': view.get('State', {}),
            'NetworkSettings': {'Networks': {'bridge': {'Aliases': None}}}}
    for path, value in changes.items():
        node = info
        *parents, last = path.split('.')
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return info


class ImageApi:
    def __init__(self, ids):
        self.ids = ids

    def inspect_image(self, reference):
        from docker.errors import NotFound
        if reference not in self.ids:
            raise NotFound('no such image')
        return {'Id': self.ids[reference], 'Config': {}}


def diffs(spec, info, api=None, **context):
    return container_drift.differences(api or ImageApi({}), spec, info,
                                       container_drift.Context(labels=LABELS, **context))


def found(spec, info, **context):
    return [d.option for d in diffs(spec, info, **context)]


# ------------------------------------------------- the SDK's rendering vs the table's
EVERYTHING = {
    'command': 'sleep 1', 'entrypoint': ['sh', '-c'], 'environment': {'A': '1', 'E': ''},
    'ports': [9001, '9002/udp', '9010-9012/sctp'], 'volumes': ['/v'], 'hostname': 'h',
    'domainname': 'd.example', 'user': 1000, 'working_dir': '/w', 'labels': {'x': 'y'},
    'stdin_open': True, 'tty': True, 'mac_address': '02:42:ac:11:00:99',
    'stop_signal': 'TERM', 'stop_timeout': 3,
    'healthcheck': {'test': 'true', 'interval': '30s', 'retries': 2},
    'port_bindings': ['127.0.0.1:8080:80', '9020-9021:9020-9021/udp', '[::1]::81'],
    'publish_all_ports': True, 'binds': ['/h:/c', '/r:/ro:ro,z'],
    'mounts': [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '1m', 'tmpfs_mode': '1777'},
               {'target': '/b', 'source': '/h', 'type': 'bind', 'propagation': 'rslave'},
               {'target': '/v2', 'source': 'vol', 'no_copy': True, 'labels': {'a': 'b'}}],
    'volumes_from': ['other'], 'tmpfs': {'/run': 'size=1m,mode=1777'},
    'network_mode': 'bridge', 'dns': ['10.0.0.1'], 'dns_search': ['a.example'],
    'dns_opt': ['ndots:2'], 'extra_hosts': {'peer': '10.0.0.1'},
    'restart_policy': 'on-failure:3', 'privileged': True, 'cap_add': ['NET_ADMIN'],
    'cap_drop': ['MKNOD'], 'devices': ['/dev/null:rw', '/dev/zero:/dev/z'],
    'device_cgroup_rules': ['c 1:3 rwm'], 'read_only': True,
    'security_opt': ['no-new-privileges'], 'pid_mode': 'host', 'ipc_mode': 'shareable',
    'cgroupns': 'host', 'cgroup_parent': 'p', 'group_add': [10],
    'ulimits': [{'name': 'nofile', 'soft': 10, 'hard': 20}],
    'log_config': {'type': 'json-file', 'config': {'max-size': '1m'}},
    'sysctls': {'net.ipv4.tcp_syncookies': 1}, 'shm_size': '64m', 'runtime': 'runc',
    'init': True, 'auto_remove': True, 'oom_kill_disable': True, 'oom_score_adj': 10,
    'mem_limit': '64m', 'mem_reservation': '32m', 'memswap_limit': 'unlimited',
    'mem_swappiness': 10, 'kernel_memory': '64m', 'cpu_shares': 512, 'cpu_period': 100000,
    'cpu_quota': 50000, 'cpu_rt_period': 1000, 'cpu_rt_runtime': 10, 'cpuset_cpus': '0',
    'cpuset_mems': '0', 'cpus': 1.5, 'blkio_weight': 300,
    'blkio_weight_device': [{'path': '/dev/vda', 'weight': 10}],
    'device_read_bps': [{'path': '/dev/vda', 'rate': '20m'}],
    'device_write_iops': [{'path': '/dev/vda', 'rate': 100}], 'pids_limit': 100,
}


def _engine_keys(section, body):
    """Keys as the engine reads them: its JSON decoding ignores case (the SDK writes
    CPURealtimePeriod, the engine keeps CpuRealtimePeriod)."""
    ours = {o.read.split('.', 1)[1].lower(): o.read.split('.', 1)[1] for o in CONTAINER
            if o.read and o.read.startswith(section + '.')}
    return {ours.get(key.lower(), key): value for key, value in body.items()}


def sdk_rendering(spec):
    """The create call's body as the docker SDK writes it (what the engine is sent)."""
    kwargs = specs.create_kwargs(API, spec, LABELS)
    kwargs.pop('platform', None)
    body = API.create_container_config(image='app:1', command=kwargs.pop('command', None),
                                       **kwargs)
    config = {k: v for k, v in body.items() if k not in ('HostConfig', 'NetworkingConfig')}
    return {'Name': '/' + spec.name, 'Config': _engine_keys('Config', config),
            'HostConfig': _engine_keys('HostConfig', body.get('HostConfig') or {})}


def test_the_sdks_create_call_holds_what_the_table_says_the_engine_stores():
    """Two renderings, written independently, agree on every option: a value the SDK
    writes wrongly (such as '9002/udp' written '9002/udp/tcp') shows here."""
    spec = spec_of(EVERYTHING, name='c')
    body = sdk_rendering(spec)
    assert body['Config']['ExposedPorts'] == {
        **{f'{p}/tcp': {} for p in (9001, 80, 81)}, '9002/udp': {}, '9020/udp': {},
        '9021/udp': {}, **{f'{p}/sctp': {} for p in (9010, 9011, 9012)}}
    assert found(spec, body) == ['networks.bridge']  # no networks in a create body
    # Every option above was written by the SDK (none fell out as falsy).
    view = container_drift.desired_view(spec, LABELS, container_drift.rules(spec), None)
    for name in EVERYTHING:
        option = CONTAINER.options[name]
        assert drift.get_path(body, option.read) is not drift.MISSING, name
        assert drift.get_path(view, option.read) is not drift.MISSING, name


def test_cpus_is_the_engines_nano_cpus_and_only_one_may_be_given():
    spec = spec_of({'cpus': 0.5})
    assert sdk_rendering(spec)['HostConfig']['NanoCpus'] == 500_000_000
    with pytest.raises(InvalidInputError, match=r'container_config\.(cpus|nano_cpus): give '):
        spec_of({'cpus': 0.5, 'nano_cpus': 10})


# ------------------------------------------------------------- comparison rules
def test_what_the_engine_adds_is_not_drift():
    spec = spec_of({'environment': {'A': '1'}, 'labels': {'x': 'y'}, 'ports': [80],
                    'healthcheck': {'test': ['CMD', 'true']}})
    info = engine_of(spec, **{
        'Config.Env': ['PATH=/bin', 'A=1'], 'Config.Labels': {'x': 'y', 'cloudify.node': 'n'},
        'Config.ExposedPorts': {'80/tcp': {}, '443/tcp': {}},
        'Config.Healthcheck': {'Test': ['CMD', 'true'], 'Interval': 0}})
    assert found(spec, info) == []


def test_what_is_missing_from_a_superset_is_drift():
    spec = spec_of({'environment': {'A': '1'}, 'ports': [81]})
    info = engine_of(spec, **{'Config.Env': ['A=2'], 'Config.ExposedPorts': {'80/tcp': {}}})
    assert found(spec, info) == ['environment', 'ports']


def test_ports_keep_their_protocol():
    spec = spec_of({'ports': [9001, '9002/udp']})
    assert found(spec, engine_of(spec)) == []
    # What the SDK made of '9002/udp' before: now a difference, as it should be.
    bad = engine_of(spec, **{'Config.ExposedPorts': {'9001/tcp': {}, '9002/udp/tcp': {}}})
    (diff,) = diffs(spec, bad)
    assert diff.option == 'ports' and diff.desired == {'9001/tcp': {}, '9002/udp': {}}


def test_environment_values_are_never_shown():
    spec = spec_of({'environment': {'TOKEN': 'v-secret'}})
    (diff,) = diffs(spec, engine_of(spec, **{'Config.Env': ['TOKEN=other']}))
    assert diff.desired == ['TOKEN'] and 'v-secret' not in repr(diff.as_dict())
    assert 'other' not in repr(diff.as_dict())


def test_env_files_count_under_the_environment_which_wins():
    spec = spec_of({'environment': {'A': 'declared'}}, file_env={'A': 'file', 'B': 'file'})
    assert spec.create['environment'] == {'A': 'declared', 'B': 'file'}
    info = engine_of(spec, **{'Config.Env': ['A=declared', 'B=changed']})
    assert [(d.option, d.desired) for d in diffs(spec, info)] == [('environment', ['B'])]


def test_sets_canon_and_the_sdk_defaults():
    spec = spec_of({'binds': ['/a:/a:rw', '/b:/b:ro'], 'cap_add': ['NET_ADMIN'],
                    'privileged': False, 'name': 'web'}, name='web')
    info = engine_of(spec, **{'HostConfig.Binds': ['/b:/b:ro', '/a:/a:rw'],
                              'HostConfig.CapAdd': ['CAP_NET_ADMIN'],
                              'HostConfig.Privileged': None})
    assert found(spec, info) == []
    info['Name'] = '/renamed'
    assert found(spec, info) == ['name']


@pytest.mark.parametrize(('option', 'declared', 'stored'), [
    # Written two ways, meaning one thing: never a difference that forces a recreate.
    ('binds', {'D': {'bind': '/b', 'mode': 'rw'}}, ['D:/b']),
    ('binds', ['D:/b'], ['D:/b:rw']),
    ('binds', ['/h:/c:z,ro'], ['/h:/c:ro,z']),
    ('dns_opt', ['ndots:2', 'rotate'], ['rotate', 'ndots:2']),
    ('security_opt', ['label:disable'], ['label=disable']),
    ('security_opt', ['no-new-privileges'], ['no-new-privileges:true']),
    ('stop_signal', 'TERM', 'SIGTERM'),
    ('stop_signal', 15, 'SIGTERM'),
    ('tmpfs', {'/run': 'size=1m,mode=1777'}, {'/run': 'mode=1777,size=1024k'}),
    ('pids_limit', -1, None),
    ('pids_limit', 0, -1),
    ('oom_kill_disable', False, None),
    ('init', False, None),
    ('devices', ['/dev/null'], [{'PathOnHost': '/dev/null', 'PathInContainer': '/dev/null',
                                 'CgroupPermissions': 'mrw'}]),
    ('mac_address', '02:42:AC:11:00:99', '02:42:ac:11:00:99'),
    ('mounts', ['vol:/data'], [{'Type': 'volume', 'Source': 'vol', 'Target': '/data'}]),
    ('mounts', [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '1m'}],
     [{'Type': 'tmpfs', 'Target': '/t', 'TmpfsOptions': {'SizeBytes': 1048576}}]),
    ('mounts', [{'target': '/v', 'source': 'v', 'driver_config': {'name': 'local'}}],
     [{'Type': 'volume', 'Source': 'v', 'Target': '/v', 'Consistency': 'default',
       'VolumeOptions': {'DriverConfig': {'Name': 'local'}}}]),
])
def test_equal_values_written_otherwise_are_no_drift(option, declared, stored):
    spec = spec_of({option: declared})
    read = CONTAINER.options[option].read
    assert found(spec, engine_of(spec, **{read: stored if stored is not None else None})) == []


@pytest.mark.parametrize(('option', 'declared', 'stored'), [
    ('mounts', [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '1m'}],
     [{'Type': 'tmpfs', 'Target': '/t', 'TmpfsOptions': {'SizeBytes': 2 * 1048576}}]),
    ('mounts', [{'target': '/t', 'type': 'tmpfs', 'tmpfs_mode': 0o700}],
     [{'Type': 'tmpfs', 'Target': '/t', 'TmpfsOptions': {'Mode': 0o755}}]),
    ('mounts', [{'target': '/b', 'source': '/h', 'type': 'bind', 'propagation': 'rshared'}],
     [{'Type': 'bind', 'Source': '/h', 'Target': '/b'}]),
    ('mounts', [{'target': '/v', 'source': 'v', 'no_copy': True}],
     [{'Type': 'volume', 'Source': 'v', 'Target': '/v'}]),
    ('mounts', [{'target': '/v', 'source': 'v', 'labels': {'a': 'b'}}],
     [{'Type': 'volume', 'Source': 'v', 'Target': '/v', 'VolumeOptions': {'Labels': {}}}]),
    ('binds', ['/h:/c'], ['/h:/c:ro']),
    ('dns', ['10.0.0.1', '10.0.0.2'], ['10.0.0.2', '10.0.0.1']),  # order matters here
    ('dns_opt', ['ndots:2'], ['ndots:2', 'rotate']),
    ('tmpfs', {'/run': 'size=1m'}, {'/run': 'size=2m'}),
    ('security_opt', ['no-new-privileges'], ['label=disable']),
    ('oom_kill_disable', False, True),
])
def test_a_real_difference_in_any_field_is_drift(option, declared, stored):
    spec = spec_of({option: declared})
    read = CONTAINER.options[option].read
    assert found(spec, engine_of(spec, **{read: stored})) == [option]


def test_what_the_engine_adds_to_security_options_is_no_drift():
    """A host PID or IPC namespace (or privileged) makes the engine add label=disable."""
    spec = spec_of({'security_opt': ['no-new-privileges'], 'pid_mode': 'host'})
    info = engine_of(spec, **{'HostConfig.SecurityOpt': ['no-new-privileges',
                                                         'label=disable']})
    assert found(spec, info) == []
    strict = spec_of({'security_opt': ['no-new-privileges'], 'pid_mode': 'host',
                      'comparisons': {'security_opt': 'strict'}})
    assert found(strict, info) == []  # strict expects what the engine adds, too
    assert found(strict, engine_of(strict, **{'HostConfig.SecurityOpt': [
        'no-new-privileges', 'label=disable', 'seccomp=unconfined']})) == ['security_opt']


def test_false_zero_and_empty_declared_values_are_shown_as_declared():
    spec = spec_of({'oom_kill_disable': False, 'pid_mode': '', 'oom_score_adj': 0,
                    'dns': []})
    info = engine_of(spec, **{'HostConfig.OomKillDisable': True, 'HostConfig.PidMode': 'host',
                              'HostConfig.OomScoreAdj': 5, 'HostConfig.Dns': ['10.0.0.1']})
    shown = {d.option: (d.desired, d.actual) for d in diffs(spec, info)}
    assert shown == {'oom_kill_disable': (False, True), 'pid_mode': ('', 'host'),
                     'oom_score_adj': (0, 5), 'dns': ([], ['10.0.0.1'])}


def test_sizes_durations_and_modes_compare_in_engine_units():
    spec = spec_of({'mem_limit': '1g', 'healthcheck': {'test': 'true', 'interval': '1m'},
                    'network_mode': 'bridge', 'memswap_limit': 'unlimited'})
    info = engine_of(spec, **{'HostConfig.Memory': 1024 ** 3, 'HostConfig.NetworkMode':
                              'default', 'HostConfig.MemorySwap': -1, 'Config.Healthcheck': {
                                  'Test': ['CMD-SHELL', 'true'], 'Interval': 60 * 10 ** 9,
                                  'Timeout': 0}})
    assert found(spec, info) == []


def test_updates_are_declared_by_the_table():
    spec = spec_of({'cpu_shares': 512, 'command': 'sleep 1', 'name': 'n', 'pids_limit': 10,
                    'cpus': 1.0, 'paused': True})
    info = engine_of(spec, **{'HostConfig.CpuShares': 2, 'Config.Cmd': ['sleep', '2'],
                              'HostConfig.PidsLimit': 20, 'HostConfig.NanoCpus': 5,
                              'State.Paused': False})
    info['Name'] = '/m'
    assert {d.option: d.update for d in diffs(spec, info)} == {
        'cpu_shares': Update.UPDATE_CALL, 'command': Update.RECREATE, 'name': Update.RENAME,
        'pids_limit': Update.UPDATE_CALL, 'cpus': Update.UPDATE_CALL, 'paused': Update.PAUSE}


def test_the_update_call_carries_every_value_as_the_engine_stores_it():
    declared = spec_of({'cpu_shares': 0, 'pids_limit': 5, 'cpus': 0.25,
                        'memswap_limit': 'unlimited', 'restart_policy': 'no'}).declared()
    body = controls.update_body({k: v for k, v in declared.items() if k != 'name'})
    assert body == {'CpuShares': 0, 'PidsLimit': 5, 'NanoCpus': 250_000_000,
                    'MemorySwap': -1, 'RestartPolicy': {'Name': 'no', 'MaximumRetryCount': 0}}
    with pytest.raises(ValueError, match='command'):
        controls.update_body({'command': ['x']})


# ------------------------------------------------------------ comparisons
def test_comparisons_override_each_option_and_the_wildcard():
    raw = {'environment': {'A': '1'}, 'dns': ['10.0.0.1'], 'labels': {'x': 'y'}}
    info_of = {'Config.Env': ['A=1', 'B=2'], 'HostConfig.Dns': ['10.0.0.9'],
               'Config.Labels': {'x': 'y', 'cloudify.node': 'n', 'extra': '1'}}
    assert found(spec_of(raw), engine_of(spec_of(raw), **info_of)) == ['dns']
    ignore_dns = spec_of({**raw, 'comparisons': {'dns': 'ignore'}})
    assert found(ignore_dns, engine_of(ignore_dns, **info_of)) == []
    strict = spec_of({**raw, 'comparisons': {'*': 'strict', 'dns': 'ignore'}})
    assert found(strict, engine_of(strict, **info_of)) == ['environment', 'labels']
    nothing = spec_of({**raw, 'comparisons': {'*': 'ignore'}})
    assert found(nothing, engine_of(nothing, **info_of)) == []


def test_strict_counts_the_images_defaults_and_the_plugins_labels():
    spec = spec_of({'environment': {'A': '1'}, 'labels': {'x': 'y'}, 'ports': [80],
                    'volumes': ['/v'], 'comparisons': {'*': 'strict'}})
    image = {'Env': ['PATH=/bin', 'A=image'], 'Labels': {'from': 'image'},
             'ExposedPorts': {'443/tcp': {}}, 'Volumes': {'/data': {}}}
    view = container_drift.desired_view(spec, LABELS, container_drift.rules(spec), image)
    assert sorted(view['Config']['Env']) == ['A=1', 'PATH=/bin']
    assert view['Config']['Labels'] == {'from': 'image', 'x': 'y', 'cloudify.node': 'n'}
    assert view['Config']['ExposedPorts'] == {'443/tcp': {}, '80/tcp': {}}
    assert view['Config']['Volumes'] == {'/data': {}, '/v': {}}
    info = engine_of(spec, **{'Config.Env': ['A=1', 'PATH=/bin', 'EXTRA=1']})
    assert drift.differences(CONTAINER, ['environment'], view, info,
                             rules=container_drift.rules(spec))[0].option == 'environment'


@pytest.mark.parametrize(('comparisons', 'words'), [
    ({'nope': 'strict'}, 'not an option drift compares'),
    ({'links': 'strict'}, 'never compared'),
    ({'dns': 'sometimes'}, 'one of strict'),
    ({'*': 'allow_more_present'}, 'strict or ignore'),
    ({'mem_limit': 'allow_more_present'}, 'strict or ignore'),
    ({'image': 'allow_more_present'}, 'strict or ignore'),
])
def test_comparisons_refused_name_the_key(comparisons, words):
    with pytest.raises(InvalidInputError, match=r'^container_config\.comparisons\.') as failure:
        spec_of({'comparisons': comparisons})
    assert words in str(failure.value), str(failure.value)


def test_options_never_compared_are_skipped():
    table = OptionTable('t', [Option('x', TEXT, 'create', read='X', compare=Compare.IGNORE),
                              Option('y', TEXT, 'create', read='Y'),
                              Option('z', TEXT, 'create')])  # inspect does not show it
    assert table.comparable() == ['y']
    view, info = {'X': 'a', 'Y': 'a', 'Z': 'a'}, {'X': 'b', 'Y': 'b', 'Z': 'b'}
    assert [d.option for d in drift.differences(table, 'xyz', view, info)] == ['y']
    # a blueprint's comparisons ignore an option the same way
    assert drift.differences(table, 'xyz', view, info, rules={'y': Compare.IGNORE}) == []


# ------------------------------------------------------------ image and networks
def test_the_image_by_id_then_by_name():
    spec = spec_of({'image': 'app:1'})
    same = {'app:1': 'sha256:' + 'a' * 64, 'app:latest': 'sha256:' + 'a' * 64}
    info = engine_of(spec)
    assert container_drift.image_difference(ImageApi(same), 'app:1', info) == []
    (by_name,) = container_drift.image_difference(ImageApi(same), 'app:latest', info)
    assert (by_name.path, by_name.desired, by_name.actual) == ('Config.Image', 'app:latest',
                                                               'app:1')
    assert container_drift.image_difference(ImageApi(same), 'app:latest', info,
                                            by_name=False) == []
    info['Config']['Image'] = 'docker.io/library/app:1'  # the same name written in full
    assert container_drift.image_difference(ImageApi(same), 'app:1', info) == []
    (by_id,) = container_drift.image_difference(ImageApi({'app:1': 'sha256:new'}), 'app:1',
                                                info)
    assert by_id.path == 'Image' and 'sha256:new' in by_id.desired


def test_image_comparisons_and_name_mismatch_are_the_blueprints(monkeypatch):
    monkeypatch.setattr(container_drift.containers, 'image_id', lambda api, ref: 'sha256:new')
    info = engine_of(spec_of({}))
    assert found(spec_of({}), info, image='app:2') == ['image']
    assert found(spec_of({'comparisons': {'image': 'ignore'}}), info, image='app:2') == []
    monkeypatch.setattr(container_drift.containers, 'image_id', lambda api, ref: info['Image'])
    assert found(spec_of({}), info, image='app:2') == ['image']
    assert found(spec_of({'image_name_mismatch': 'ignore'}), info, image='app:2') == []


def test_networks_membership_and_endpoints():
    spec = spec_of({}, net=[('front', {'aliases': ['web'], 'ipv4_address': '10.1.0.5'}),
                            ('back', {})])
    info = {'NetworkSettings': {'Networks': {'front': {
        'Aliases': ['web', 'abc123'], 'IPAMConfig': {'IPv4Address': '10.1.0.6'}}}}}
    found_ = networks.membership_drift(info, spec.networks, None)
    assert [(d.option, d.update) for d in found_] == [
        ('ipv4_address', Update.RECONNECT), ('networks.back', Update.RECONNECT)]
    # No relationships: the container belongs on its network mode's network.
    assert [d.option for d in networks.membership_drift({'NetworkSettings': {'Networks': {}}},
                                                        [], 'bridge')] == ['networks.bridge']
    assert networks.membership_drift({'NetworkSettings': {'Networks': {}}}, [], 'host') == []


def test_networks_strict_sees_a_network_connected_by_hand():
    info = {'NetworkSettings': {'Networks': {'bridge': {}, 'byhand': {}}}}
    assert networks.membership_drift(info, [], 'bridge') == []
    (extra,) = networks.membership_drift(info, [], 'bridge', strict=True)
    assert (extra.option, extra.desired, extra.actual) == ('networks.byhand', 'not connected',
                                                           'connected')
    spec = spec_of({'comparisons': {'networks': 'strict'}})
    assert found(spec, engine_of(spec, **{'NetworkSettings.Networks.byhand': {}})) == [
        'networks.byhand']
    ignored = spec_of({'comparisons': {'networks': 'ignore'}})
    assert found(ignored, engine_of(ignored, **{'NetworkSettings.Networks': {}})) == []


def test_the_container_drift_adds_image_and_networks(monkeypatch):
    spec = spec_of({'command': 'sleep 1'}, net=[('front', {})])
    monkeypatch.setattr(container_drift.containers, 'image_id', lambda api, ref: 'sha256:new')
    info = engine_of(spec, **{'NetworkSettings.Networks': {'front': {}}})
    assert [(d.option, d.updatable) for d in diffs(spec, info, image='app:1')] == [
        ('image', False)]


# ------------------------------------------------------------ what the engine discards
def test_what_the_engine_discarded_is_not_drift():
    spec = spec_of({'blkio_weight': 500, 'cpu_shares': 512})
    info = engine_of(spec, **{'HostConfig.BlkioWeight': 0, 'HostConfig.CpuShares': 2})
    found_ = diffs(spec, info)
    assert [d.option for d in found_] == ['blkio_weight', 'cpu_shares']
    # Only where the engine warned, and only what it holds nothing for.
    assert container_drift.discarded(found_, ['blkio_weight', 'cpu_shares'], []) == []
    assert container_drift.discarded(found_, ['blkio_weight', 'cpu_shares'],
                                     ['Weight discarded.']) == ['blkio_weight']
    assert container_drift.discarded(found_, ['cpu_shares'], ['Weight discarded.']) == []
    assert found(spec, info, discarded=['blkio_weight']) == ['cpu_shares']


# ------------------------------------------------------------ the building blocks
@pytest.mark.parametrize('compare', list(Compare))
def test_declared_empty_and_left_out_by_the_engine_is_no_drift(compare):
    """``container_labels: {}`` on a service: the engine answers no Labels at all
    (found by the fuzz tier)."""
    option = Option('x', TEXT, 's', read='X', compare=compare)
    for empty in ({}, [], '', None):
        assert drift.matches(option, empty, drift.MISSING)
        assert drift.matches(option, empty, None)
    assert not drift.matches(Option('x', TEXT, 's', read='X', compare=Compare.SUPERSET),
                             {'a': '1'}, None)


@pytest.mark.parametrize(('desired', 'actual', 'same'), [
    ({'a': None}, {}, True),
    ({'a': ''}, {}, False),
    ({'a': ''}, {'a': ''}, True),
    ([{'Subnet': '10.0.0.0/24'}], [{'Subnet': '10.0.0.0/24', 'Gateway': '10.0.0.1'}], True),
    ([1, 2], [2, 1, 3], True),
    ([1, 4], [2, 1, 3], False),
])
def test_contains(desired, actual, same):
    assert drift.contains(desired, actual) is same


def test_desired_view_is_the_tables_stored_form_at_each_path():
    view = drift.desired_view(CONTAINER, {'environment': {'A': '1'}, 'oom_kill_disable': False,
                                          'ports': [(53, 'udp')], 'links': ['a:b'],
                                          'paused': True})
    assert view == {'Config': {'Env': ['A=1'], 'ExposedPorts': {'53/udp': {}}},
                    'HostConfig': {'OomKillDisable': False}, 'State': {'Paused': True}}
    before = copy.deepcopy(view)
    drift.set_path(view, 'HostConfig.Dns', [])
    assert view == {**before, 'HostConfig': {'OomKillDisable': False, 'Dns': []}}


@pytest.mark.parametrize(('engine', 'refused'), [('1.44', True), ('1.45', False),
                                                 ('1.50', False)])
def test_subpath_is_refused_by_an_engine_that_would_ignore_it(engine, refused):
    spec = specs.build({}, {}, {}, [specs.volume_mount('vol', {'target': '/x',
                                                               'subpath': 'sub'})], [], 'n')
    if refused:
        with pytest.raises(InvalidInputError, match=r'subpath: needs Docker API 1\.45'):
            specs.check_engine_support(spec, engine)
    else:
        specs.check_engine_support(spec, engine)
    specs.check_engine_support(spec_of({'command': 'x'}), '1.24')  # nothing version-bound


# ------------------------------------------------------------ the service table's siblings
def test_service_ports_take_ranges_as_containers_do():
    from docker_plugin.options.service import SERVICE
    ports = SERVICE.validate({'image': 'i', 'ports': ['9010-9011:8010-8011/udp', '9020-9021',
                                                      80]}, 'service_config')['service']['ports']
    assert [(p['TargetPort'], p.get('PublishedPort'), p['Protocol']) for p in ports] == [
        (8010, 9010, 'udp'), (8011, 9011, 'udp'), (9020, None, 'tcp'), (9021, None, 'tcp'),
        (80, None, 'tcp')]
    with pytest.raises(InvalidInputError, match=r'service_config\.ports\[0\]: 2 target ports'):
        SERVICE.validate({'image': 'i', 'ports': ['9010:8010-8011']}, 'service_config')


def test_service_mounts_and_signals_compare_as_containers_do():
    from docker_plugin.options.service import SERVICE
    mounts, signal = SERVICE.options['mounts'], SERVICE.options['stop_signal']
    declared = SERVICE.validate({'image': 'i', 'mounts': [
        {'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '1m'}], 'stop_signal': 'TERM'},
        'service_config')['service']
    assert drift.matches(signal, declared['stop_signal'], 'SIGTERM')
    assert drift.matches(mounts, declared['mounts'], [
        {'Type': 'tmpfs', 'Target': '/t', 'TmpfsOptions': {'SizeBytes': 1048576}}])
    assert not drift.matches(mounts, declared['mounts'], [
        {'Type': 'tmpfs', 'Target': '/t', 'TmpfsOptions': {'SizeBytes': 2097152}}])


def test_a_zero_the_update_call_would_leave_as_it_was_needs_a_new_container():
    """The engine's update call keeps the old value of a field given 0 (PidsLimit aside)."""
    spec = spec_of({'cpu_shares': 0, 'pids_limit': 0, 'cpuset_cpus': '0', 'nano_cpus': 0})
    info = engine_of(spec, **{'HostConfig.CpuShares': 512, 'HostConfig.PidsLimit': 10,
                              'HostConfig.CpusetCpus': '1', 'HostConfig.NanoCpus': 5})
    assert {d.option: d.update for d in diffs(spec, info)} == {
        'cpu_shares': Update.RECREATE, 'pids_limit': Update.UPDATE_CALL,
        'cpuset_cpus': Update.UPDATE_CALL, 'nano_cpus': Update.RECREATE}
    assert controls.applies_in_place('restart_policy', {'Name': 'no', 'MaximumRetryCount': 0})
    assert not controls.applies_in_place('command', ['x'])


def test_a_container_made_from_an_image_id_has_no_name_to_compare():
    info = engine_of(spec_of({}))
    info['Config']['Image'] = 'sha256:' + 'a' * 64
    api = ImageApi({'app:1': info['Image']})
    assert container_drift.image_difference(api, 'app:1', info) == []
    info['Config']['Image'] = 'a' * 12
    assert container_drift.image_difference(api, 'app:1', info) == []


def test_the_wildcard_covers_networks_declared_by_relationships():
    info_of = {'NetworkSettings.Networks': {'front': {}, 'byhand': {}}}
    plain = spec_of({'comparisons': {'*': 'strict'}})
    assert found(plain, engine_of(plain, **info_of)) == ['networks.bridge']  # none declared
    strict = spec_of({'comparisons': {'*': 'strict'}}, net=[('front', {})])
    assert found(strict, engine_of(strict, **info_of)) == ['networks.byhand']
    ignored = spec_of({'comparisons': {'*': 'ignore'}}, net=[('front', {})])
    assert found(ignored, engine_of(ignored, **{'NetworkSettings.Networks': {}})) == []
    # The plugin's labels count only where labels compare strictly.
    labelled = spec_of({'labels': {'x': 'y'}})
    assert found(labelled, engine_of(labelled, **{'Config.Labels': {'x': 'y'}})) == []
    strict_labels = spec_of({'labels': {'x': 'y'}, 'comparisons': {'labels': 'strict'}})
    assert found(strict_labels, engine_of(strict_labels, **{'Config.Labels': {'x': 'y'}})) == [
        'labels']
