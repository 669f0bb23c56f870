"""Drift comparison, driven by the option tables (no engine: the SDK renders views)."""

from __future__ import annotations

import docker
import pytest

from docker_plugin.options.base import Compare, Option, Update
from docker_plugin.options.checks import TEXT
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import container_drift, drift, networks
from docker_plugin.resources import spec as specs

API = docker.APIClient(version='1.41')


def spec_of(raw, start=None, net=None, name='c'):
    parts = CONTAINER.validate(raw, 'container_config')
    host = CONTAINER.validate(start or {}, 'container_start', sections=('host',)).get('host', {})
    return specs.build(parts, host, {}, [], net or [], name)


def inspect_of(spec, **changes):
    """Inspect data as the engine would answer for the spec, then changed."""
    view = specs.engine_view(API, spec)
    info = {'Name': '/' + spec.name, 'Image': 'sha256:' + 'a' * 64, 'Config': view['Config'],
            'HostConfig': view['HostConfig'],
            'NetworkSettings': {'Networks': {'bridge': {'Aliases': None}}}}
    for path, value in changes.items():
        node = info
        *parents, last = path.split('.')
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return info


def found(spec, info):
    return [d.option for d in drift.differences(CONTAINER, spec.declared(),
                                                specs.engine_view(API, spec), info)]


def test_what_the_engine_adds_is_not_drift():
    spec = spec_of({'environment': {'A': '1'}, 'labels': {'x': 'y'}, 'ports': [80],
                    'healthcheck': {'test': ['CMD', 'true']}})
    info = inspect_of(spec, **{
        'Config.Env': ['PATH=/bin', 'A=1'], 'Config.Labels': {'x': 'y', 'cloudify.node': 'n'},
        'Config.ExposedPorts': {'80/tcp': {}, '443/tcp': {}},
        'Config.Healthcheck': {'Test': ['CMD', 'true']}})
    assert found(spec, info) == []


def test_what_is_missing_from_a_superset_is_drift():
    spec = spec_of({'environment': {'A': '1'}, 'ports': [81]})
    info = inspect_of(spec, **{'Config.Env': ['A=2'], 'Config.ExposedPorts': {'80/tcp': {}}})
    assert found(spec, info) == ['environment', 'ports']


def test_environment_values_are_never_shown():
    spec = spec_of({'environment': {'TOKEN': 'v-secret'}})
    (diff,) = drift.differences(CONTAINER, spec.declared(), specs.engine_view(API, spec),
                                inspect_of(spec, **{'Config.Env': ['TOKEN=other']}))
    assert diff.desired == ['TOKEN'] and 'v-secret' not in repr(diff.as_dict())
    assert 'other' not in repr(diff.as_dict())


def test_sets_canon_and_the_sdk_defaults():
    spec = spec_of({'binds': ['/a:/a:rw', '/b:/b:ro'], 'cap_add': ['NET_ADMIN'],
                    'privileged': False, 'name': 'web'}, name='web')
    info = inspect_of(spec, **{'HostConfig.Binds': ['/b:/b:ro', '/a:/a:rw'],
                               'HostConfig.CapAdd': ['CAP_NET_ADMIN'],
                               'HostConfig.Privileged': False})
    info['Name'] = '/web'
    assert found(spec, info) == []
    info['Name'] = '/renamed'
    assert found(spec, info) == ['name']


def test_sizes_durations_and_modes_compare_in_engine_units():
    spec = spec_of({'mem_limit': '1g', 'healthcheck': {'test': 'true', 'interval': '1m'},
                    'network_mode': 'bridge'})
    info = inspect_of(spec, **{'HostConfig.Memory': 1024 ** 3, 'HostConfig.NetworkMode':
                               'default', 'Config.Healthcheck': {
                                   'Test': ['CMD-SHELL', 'true'], 'Interval': 60 * 10 ** 9,
                                   'Timeout': 0}})
    assert found(spec, info) == []


def test_updates_are_declared_by_the_table():
    spec = spec_of({'cpu_shares': 512, 'command': 'sleep 1', 'name': 'n'})
    info = inspect_of(spec, **{'HostConfig.CpuShares': 2, 'Config.Cmd': ['sleep', '2']})
    info['Name'] = '/m'
    diffs = {d.option: d.update for d in drift.differences(
        CONTAINER, spec.declared(), specs.engine_view(API, spec), info)}
    assert diffs == {'cpu_shares': Update.UPDATE_CALL, 'command': Update.RECREATE,
                     'name': Update.RENAME}


def test_options_never_compared_are_skipped():
    ignored = Option('x', TEXT, 'create', read='X', compare=Compare.IGNORE)
    assert not drift.matches(Option('y', TEXT, 'create', read='Y'), 'a', 'b')
    assert ignored.compare is Compare.IGNORE


def test_networks_membership_and_endpoints():
    spec = spec_of({}, net=[('front', {'aliases': ['web'], 'ipv4_address': '10.1.0.5'}),
                            ('back', {})])
    info = {'NetworkSettings': {'Networks': {'front': {
        'Aliases': ['web', 'abc123'], 'IPAMConfig': {'IPv4Address': '10.1.0.6'}}}}}
    diffs = networks.membership_drift(info, spec.networks, None)
    assert [(d.option, d.update) for d in diffs] == [
        ('ipv4_address', Update.RECONNECT), ('networks.back', Update.RECONNECT)]
    # No relationships: the container belongs on its network mode's network.
    assert [d.option for d in networks.membership_drift({'NetworkSettings': {'Networks': {}}},
                                                        [], 'bridge')] == ['networks.bridge']
    assert networks.membership_drift({'NetworkSettings': {'Networks': {}}}, [], 'host') == []


def test_the_container_drift_adds_image_and_networks(monkeypatch):
    spec = spec_of({'command': 'sleep 1'}, net=[('front', {})])
    monkeypatch.setattr(container_drift.containers, 'image_id', lambda api, ref: 'sha256:new')
    info = inspect_of(spec, **{'NetworkSettings.Networks': {'front': {}}})
    diffs = container_drift.differences(API, spec, 'app:1', info)
    assert [(d.option, d.updatable) for d in diffs] == [('image', False)]


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


@pytest.mark.parametrize(('engine', 'refused'), [('1.44', True), ('1.45', False),
                                                 ('1.50', False)])
def test_subpath_is_refused_by_an_engine_that_would_ignore_it(engine, refused):
    from docker_plugin.errors import InvalidInputError
    spec = specs.build({}, {}, {}, [specs.volume_mount('vol', {'target': '/x',
                                                               'subpath': 'sub'})], [], 'n')
    if refused:
        with pytest.raises(InvalidInputError, match=r'subpath: needs Docker API 1\.45'):
            specs.check_engine_support(spec, engine)
    else:
        specs.check_engine_support(spec, engine)
    specs.check_engine_support(spec_of({'command': 'x'}), '1.24')  # nothing version-bound
