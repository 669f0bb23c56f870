"""Drift in the blueprint's words: sizes, durations and CPUs as they were written.

The engine keeps bytes, nanoseconds and billionths of a CPU; a drift entry shows the
declared value as the blueprint wrote it and the engine's in the same units, by each
option's ``units`` in its table (no engine: inspect data written by hand).
"""

from __future__ import annotations

import pytest

from docker_plugin import records
from docker_plugin.options import units
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.service import SERVICE
from docker_plugin.options.swarm import SWARM
from docker_plugin.resources import drift
from docker_plugin.resources.container import drift as container_drift
from docker_plugin.resources.container import spec as specs
from docker_plugin.resources.swarm import service_spec

MB = 1024 ** 2
SECOND = 10 ** 9


def container_spec(raw):
    spec = specs.build(CONTAINER.validate(raw, 'container_config'), {}, {}, [], [], 'c')
    return records.replace(spec, written=CONTAINER.written(raw))


def container_drift_of(raw, **host):
    spec = container_spec(raw)
    found = container_drift.rules(spec)
    view = container_drift.desired_view(spec, None, found, None)
    info = {'Name': '/c', 'Config': view.get('Config', {}),
            'HostConfig': {**view.get('HostConfig', {}), **host}}
    return {d.option: d for d in drift.differences(CONTAINER, list(spec.declared()), view,
                                                   info, rules=found, written=spec.written)
            if d.option != 'name'}


@pytest.mark.parametrize(('written', 'engine', 'shown'), [
    ('64m', 128 * MB, '128m'),
    ('64MB', 128 * MB, '128MB'),
    ('1g', 1536 * MB, '1.5g'),
    ('64m', 1000, '1000b'),
    (67108864, 128 * MB, 128 * MB),          # written in bytes: bytes
    (None, 64 * MB, '64m'),                  # not known how: the unit a person would choose
    (None, 1000, 1000),
])
def test_sizes_are_shown_in_the_unit_they_were_written_in(written, engine, shown):
    assert units.size_text(engine, written) == shown


@pytest.mark.parametrize(('written', 'engine', 'shown'), [
    ('30s', 90 * SECOND, '90s'),
    ('30s', 1500 * 10 ** 6, '1.5s'),
    ('1m30s', 3605 * SECOND, '1h5s'),
    (None, 250 * 10 ** 6, '250ms'),
    (None, 0, '0s'),
    (5 * SECOND, 10 * SECOND, 10 * SECOND),  # written in nanoseconds: nanoseconds
])
def test_durations_are_shown_as_they_were_written(written, engine, shown):
    assert units.duration_text(engine, written) == shown


def test_a_container_memory_limit_drifts_in_megabytes():
    found = container_drift_of({'mem_limit': '64m', 'memswap_limit': 'unlimited',
                                'shm_size': '32m', 'cpus': 1.5},
                               Memory=128 * MB, MemorySwap=256 * MB, ShmSize=32 * MB,
                               NanoCpus=2 * SECOND)
    assert sorted(found) == ['cpus', 'mem_limit', 'memswap_limit']
    memory = found['mem_limit']
    assert (memory.desired, memory.actual) == ('64m', '128m')
    assert memory.as_dict()['desired'] == '64m'
    assert "declared '64m', found '128m'" in memory.describe()
    assert (found['memswap_limit'].desired, found['memswap_limit'].actual) == \
        ('unlimited', '256m')
    assert (found['cpus'].desired, found['cpus'].actual) == (1.5, 2)


def test_a_healthcheck_and_device_rates_drift_in_their_own_words():
    raw = {'healthcheck': {'test': ['CMD', 'true'], 'interval': '5s'},
           'device_read_bps': [{'path': '/dev/sda', 'rate': '20m'}]}
    found = container_drift_of(raw, BlkioDeviceReadBps=[{'Path': '/dev/sda',
                                                         'Rate': 40 * MB}])
    rate = found['device_read_bps']
    assert rate.desired == [{'path': '/dev/sda', 'rate': '20m'}]
    assert rate.actual == [{'path': '/dev/sda', 'rate': '40m'}]
    spec = container_spec(raw)
    rules = container_drift.rules(spec)
    view = container_drift.desired_view(spec, None, rules, None)
    info = {'Config': {'Healthcheck': {'Test': ['CMD', 'true'], 'Interval': 10 * SECOND,
                                       'Retries': 3}}}
    (health,) = drift.differences(CONTAINER, ['healthcheck'], view, info, rules=rules,
                                  written=spec.written)
    assert health.desired == {'test': ['CMD', 'true'], 'interval': '5s'}
    assert health.actual == {'test': ['CMD', 'true'], 'interval': '10s', 'retries': 3}


def test_service_resources_rollouts_and_grace_periods_drift_as_written():
    raw = {'image': 'i', 'stop_grace_period': '2s',
           'resources': {'limits': {'memory': '64m', 'cpus': 0.5}},
           'update_config': {'delay': '10s'}}
    values = SERVICE.parse(raw, 'service_config')
    spec = service_spec.ServiceSpec(name='s', values=values, networks=[], secrets=[],
                                    configs=[], labels={}, written=SERVICE.written(raw))
    declared = ['stop_grace_period', 'resources', 'update_config']
    view = service_spec.desired_view(spec, 'i')
    actual = {'TaskTemplate': {
        'ContainerSpec': {'StopGracePeriod': 90 * SECOND},
        'Resources': {'Limits': {'MemoryBytes': 128 * MB, 'NanoCPUs': SECOND // 2}}},
        'UpdateConfig': {'Parallelism': 1, 'Delay': 30 * SECOND, 'FailureAction': 'pause',
                         'Monitor': 5 * SECOND, 'Order': 'stop-first'}}
    found = {d.option: d for d in drift.differences(SERVICE, declared, view, actual,
                                                   written=spec.written)}
    assert (found['stop_grace_period'].desired, found['stop_grace_period'].actual) == \
        ('2s', '90s')  # the unit it was written in
    assert found['resources'].desired == {'limits': {'memory': '64m', 'cpus': 0.5}}
    assert found['resources'].actual == {'limits': {'memory': '128m', 'cpus': 0.5}}
    assert found['update_config'].actual == {'parallelism': 1, 'delay': '30s',
                                             'failure_action': 'pause', 'monitor': '5s',
                                             'order': 'stop-first'}


def test_swarm_durations_drift_as_written():
    raw = {'dispatcher_heartbeat_period': '5s'}
    declared = SWARM.validate(raw, 'swarm_config')['spec']
    (found,) = drift.differences(SWARM, declared, {'Dispatcher': {'HeartbeatPeriod': 5 * SECOND}},
                                 {'Dispatcher': {'HeartbeatPeriod': 20 * SECOND}},
                                 written=SWARM.written(raw))
    assert (found.desired, found.actual) == ('5s', '20s')


def test_only_options_with_units_keep_what_was_written_and_never_a_secret():
    written = CONTAINER.written({'mem_limit': '64m', 'command': 'x',
                                 'secret_environment': {'K': 'v'}})
    assert written == {'mem_limit': '64m'}
    assert all(not option.secret for option in (*CONTAINER, *SERVICE, *SWARM)
               if option.units is not None)
