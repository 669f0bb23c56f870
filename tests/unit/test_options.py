"""The option tables: validation, normalisation and completeness."""

from __future__ import annotations

import inspect

import docker.types
import pytest
from docker.api.container import ContainerApiMixin

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.container import CONTAINER, START_SECTIONS
from docker_plugin.options.network import NETWORK
from docker_plugin.options.volume import VOLUME


def validate(raw, field='container_config', **kw):
    return CONTAINER.validate(raw, field, **kw)


def test_split_by_section():
    parts = validate({'command': 'x', 'port_bindings': {80: 8080}, 'privileged': True})
    assert parts['create'] == {'command': 'x'}
    assert parts['host'] == {'port_bindings': {80: 8080}, 'privileged': True}


@pytest.mark.parametrize(('raw', 'field', 'words'), [
    ({'comand': 'x'}, 'container_config.comand', "did you mean 'command'"),
    ({'ports': '80'}, 'container_config.ports', 'expected a list'),
    ({'privileged': 'yes'}, 'container_config.privileged', 'true or false'),
    ({'environment': 3}, 'container_config.environment', 'a dictionary or a list'),
    ({'cpu_shares': True}, 'container_config.cpu_shares', 'got a boolean'),
    ({'ports': [70000]}, 'container_config.ports[0]', 'expected a port'),
    ({'ports': ['abc']}, 'container_config.ports[0]', 'expected a port'),
    ({'environment': ['=x']}, 'container_config.environment[0]', 'NAME=value'),
    ({'environment': {'A': {'b': 1}}}, 'container_config.environment.A', 'values must be'),
    ({'binds': ['/only-one-part']}, 'container_config.binds[0]', 'host_path:container_path'),
    ({'binds': {'/h': {'bind': '/c', 'rw': True}}}, 'container_config.binds./h', 'unknown keys'),
    ({'restart_policy': 'sometimes'}, 'container_config.restart_policy', 'one of'),
    ({'port_bindings': {80: 'x'}}, 'container_config.port_bindings.80', 'host port'),
    ({'ulimits': [{'nam': 'nofile'}]}, 'container_config.ulimits[0]', 'name'),
])
def test_bad_values_name_the_field(raw, field, words):
    with pytest.raises(InvalidInputError) as failure:
        validate(raw)
    assert str(failure.value).startswith(f'{field}:') and words in str(failure.value)


def test_container_start_takes_host_options_only():
    with pytest.raises(InvalidInputError, match=r'container_start\.command: not accepted here'):
        validate({'command': 'x'}, 'container_start', sections=START_SECTIONS)
    assert validate({'network_mode': 'host'}, 'container_start',
                    sections=START_SECTIONS)['host'] == {'network_mode': 'host'}


def test_environment_forms():
    assert validate({'environment': {'A': 1, 'B': True, 'C': 'x'}})['create']['environment'] == \
        {'A': '1', 'B': 'true', 'C': 'x'}
    assert validate({'environment': ['A=1', 'B=', 'C=x=y']})['create']['environment'] == \
        {'A': '1', 'B': '', 'C': 'x=y'}


def test_port_forms():
    host = validate({'port_bindings': {
        8080: 80, '53/udp': 5353, 81: ['127.0.0.1', 8081],
        82: {'host_ip': '127.0.0.1', 'host_port': 8082}, 83: [9001, 9002],
        84: [['127.0.0.1', 1], ['::1', 2]], 85: None, 86: ['127.0.0.1', None]}})[
        'host']['port_bindings']
    assert host == {8080: 80, '53/udp': 5353, 81: ('127.0.0.1', 8081),
                    82: ('127.0.0.1', 8082), 83: [9001, 9002],
                    84: [('127.0.0.1', 1), ('::1', 2)], 85: None, 86: ('127.0.0.1',)}
    assert validate({'ports': [80, '53/udp']})['create']['ports'] == [80, '53/udp']


def test_binds_and_structured_host_options():
    host = validate({
        'binds': {'/h': '/c', '/r': {'bind': '/ro', 'mode': 'ro'}},
        'restart_policy': 'on-failure:3',
        'mounts': [{'target': '/t', 'source': 'vol'}],
        'ulimits': [{'name': 'nofile', 'soft': 1024, 'hard': 2048}],
        'log_config': {'type': 'json-file', 'config': {'max-size': '1m'}},
    })['host']
    assert host['binds'] == {'/h': {'bind': '/c'}, '/r': {'bind': '/ro', 'mode': 'ro'}}
    assert host['restart_policy'] == {'Name': 'on-failure', 'MaximumRetryCount': 3}
    assert isinstance(host['mounts'][0], docker.types.Mount)
    assert isinstance(host['ulimits'][0], docker.types.Ulimit)
    assert isinstance(host['log_config'], docker.types.LogConfig)
    check = validate({'healthcheck': {'test': ['CMD', 'true'], 'interval': 10**9}})
    assert isinstance(check['create']['healthcheck'], docker.types.Healthcheck)


def test_table_matches_the_sdk():
    create_kw = set(inspect.signature(ContainerApiMixin.create_container).parameters)
    host_kw = set(inspect.signature(docker.types.HostConfig.__init__).parameters)
    ours = {'secret_environment'}  # merged into environment by the plugin
    for option in CONTAINER.options.values():
        if option.name in ours:
            continue
        allowed = create_kw if option.section == 'create' else host_kw
        assert option.name in allowed, option.name
    # Every HostConfig keyword is declared, so the table stays complete
    # (runtime is declared once, as the create call's own keyword).
    assert host_kw - {'self', 'version', 'runtime'} <= set(CONTAINER.names('host'))


def test_network_and_volume_tables():
    parts = NETWORK.validate({'driver': 'bridge', 'internal': True, 'ipam': {
        'config': [{'subnet': '10.9.0.0/24', 'gateway': '10.9.0.1'}]}}, 'network_config')
    ipam = parts['create']['ipam']
    pools = [{k: v for k, v in pool.items() if v is not None} for pool in ipam['Config']]
    assert pools == [{'Subnet': '10.9.0.0/24', 'Gateway': '10.9.0.1'}]
    with pytest.raises(InvalidInputError, match=r'network_config\.ipam\.config\[0\]'):
        NETWORK.validate({'ipam': {'config': [{'cidr': 'x'}]}}, 'network_config')
    with pytest.raises(InvalidInputError, match=r'volume_config\.size'):
        VOLUME.validate({'size': 1}, 'volume_config')
