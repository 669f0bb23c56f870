"""The option tables: validation, normalisation, and that they match the SDK."""

from __future__ import annotations

import inspect

import docker
import pytest
from docker.api.container import ContainerApiMixin
from docker.types import EndpointConfig, HostConfig

from docker_plugin import kinds
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.actions import ACTIONS
from docker_plugin.options.base import Compare, Update, api_tuple
from docker_plugin.options.container import CONTAINER, START_SECTIONS
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_IMPORT, IMAGE_PULL
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.options.volume import MOUNT, VOLUME


def validate(raw, field='container_config', **kw):
    return CONTAINER.validate(raw, field, **kw)


def test_split_by_section():
    parts = validate({'command': 'x', 'port_bindings': {80: 8080}, 'privileged': True,
                      'paused': True})
    assert parts['create'] == {'command': ['x']}
    assert parts['host'] == {'port_bindings': {'80/tcp': 8080}, 'privileged': True}
    assert parts['plugin'] == {'paused': True}


@pytest.mark.parametrize(('raw', 'field', 'words'), [
    ({'comand': 'x'}, 'container_config.comand', "did you mean 'command'"),
    ({'ports': '80'}, 'container_config.ports', 'expected a list'),
    ({'privileged': 'yes'}, 'container_config.privileged', 'true or false'),
    ({'environment': 3}, 'container_config.environment', 'a dictionary of NAME'),
    ({'cpu_shares': True}, 'container_config.cpu_shares', 'got a boolean'),
    ({'cpu_shares': 10 ** 30}, 'container_config.cpu_shares', 'from 0 to 262144'),
    ({'ports': [70000]}, 'container_config.ports[0]', 'port number'),
    ({'ports': ['abc']}, 'container_config.ports[0]', 'port number'),
    ({'ports': ['８０']}, 'container_config.ports[0]', 'port number'),
    ({'port_bindings': {'８０': 1}}, 'container_config.port_bindings.８０', 'port number'),
    ({'restart_policy': 'on-failure:３'}, 'container_config.restart_policy', 'name[:count]'),
    ({'environment': ['=x']}, 'container_config.environment[0]', 'NAME=value'),
    ({'environment': {'A': {'b': 1}}}, 'container_config.environment.A', 'values must be'),
    ({'binds': ['/only-one-part']}, 'container_config.binds[0]', 'host_path:container_path'),
    ({'binds': {'/h': {'bind': '/c', 'rw': True}}}, 'container_config.binds./h', 'bind'),
    ({'restart_policy': 'sometimes'}, 'container_config.restart_policy.name', 'one of'),
    ({'port_bindings': {80: 'x'}}, 'container_config.port_bindings.80', 'port number'),
    ({'ulimits': [{'nam': 'nofile'}]}, 'container_config.ulimits[0].nam', 'unknown key'),
    ({'ulimits': ['nofile=1']}, 'container_config.ulimits[0]', 'a ulimit'),
    ({'mounts': [{'target': '/t', 'type': 'weird'}]}, 'container_config.mounts[0].type',
     'one of'),
    ({'tmpfs': [1]}, 'container_config.tmpfs[0]', '/path'),
    ({'uts_mode': 'private'}, 'container_config.uts_mode', 'host'),
    ({'userns_mode': 'x'}, 'container_config.userns_mode', 'host'),
    ({'links': [['a']]}, 'container_config.links[0]', 'container:alias'),
    ({'volumes': [{'a': 1}]}, 'container_config.volumes[0]', 'expected a string'),
    ({'cap_add': [1]}, 'container_config.cap_add[0]', 'capability'),
    ({'dns': ['x']}, 'container_config.dns[0]', 'IP address'),
    ({'entrypoint': [{}]}, 'container_config.entrypoint[0]', 'values must be'),
    ({'log_config': {'type': 5}}, 'container_config.log_config.type', 'expected a string'),
    ({'command': "echo 'unclosed"}, 'container_config.command', 'cannot split'),
    ({'working_dir': 'relative'}, 'container_config.working_dir', 'absolute path'),
    ({'healthcheck': {'test': ['CMD', 'true'], 'interval': 'soon'}},
     'container_config.healthcheck.interval', 'duration'),
    ({'stop_signal': 'SIGNOPE'}, 'container_config.stop_signal', 'signal'),
    ({'name': 'bad name'}, 'container_config.name', 'container name'),
    ({'mem_limit': '12 parsecs'}, 'container_config.mem_limit', 'size'),
])
def test_bad_values_name_the_field(raw, field, words):
    with pytest.raises(InvalidInputError) as failure:
        validate(raw)
    assert str(failure.value).startswith(f'{field}:') and words in str(failure.value), \
        str(failure.value)


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
    assert host == {'8080/tcp': 80, '53/udp': 5353, '81/tcp': ('127.0.0.1', 8081),
                    '82/tcp': ('127.0.0.1', 8082), '83/tcp': [9001, 9002],
                    '84/tcp': [('127.0.0.1', 1), ('::1', 2)], '85/tcp': None,
                    '86/tcp': ('127.0.0.1',)}
    # Container ports are (number, protocol): the SDK writes '53/udp' as '53/udp/tcp'.
    assert validate({'ports': [80, '53/udp', '80']})['create']['ports'] == [
        (80, 'tcp'), (53, 'udp')]


@pytest.mark.parametrize(('raw', 'bindings'), [
    (['8080:80'], {'80/tcp': 8080}),
    (['127.0.0.1:8080:80/udp'], {'80/udp': ('127.0.0.1', 8080)}),
    (['127.0.0.1::80'], {'80/tcp': ('127.0.0.1',)}),
    (['[::1]:8080:80'], {'80/tcp': ('::1', 8080)}),
    ([80, '81'], {'80/tcp': None, '81/tcp': None}),
    (['9010-9012:9010-9012'], {'9010/tcp': 9010, '9011/tcp': 9011, '9012/tcp': 9012}),
    (['127.0.0.1:7000-7001:9000-9001/udp'], {'9000/udp': ('127.0.0.1', 7000),
                                             '9001/udp': ('127.0.0.1', 7001)}),
    (['8000-8010:80'], {'80/tcp': '8000-8010'}),
    (['9010-9011'], {'9010/tcp': None, '9011/tcp': None}),
    ({'9010-9011': '7010-7011'}, {'9010/tcp': 7010, '9011/tcp': 7011}),
    ({'9010-9011/udp': ['127.0.0.1', '7010-7011']}, {'9010/udp': ('127.0.0.1', 7010),
                                                      '9011/udp': ('127.0.0.1', 7011)}),
    (['8080:80', '8081:80'], {'80/tcp': [8080, 8081]}),
])
def test_published_ports_as_the_docker_cli_writes_them(raw, bindings):
    assert validate({'port_bindings': raw})['host']['port_bindings'] == bindings


@pytest.mark.parametrize(('raw', 'words'), [
    (['9010-9012:9010-9011'], 'same length'),
    (['1.2.3.4:5:6:7'], 'container_port'),
    (['[::1:8080:80'], 'ipv6'),
    (['x.y.z.w:80:80'], 'IP address'),
    (['8080:80/icmp'], "'53/udp'"),
    ({'90-80': 1}, 'must go up'),
    (['8080:'], 'port number'),
])
def test_published_ports_refused_name_the_item(raw, words):
    with pytest.raises(InvalidInputError, match=r'^container_config\.port_bindings') as failure:
        validate({'port_bindings': raw})
    assert words in str(failure.value), str(failure.value)


def test_structured_values_are_in_the_engines_own_form():
    parts = validate({
        'binds': {'/h': '/c', '/r': {'bind': '/ro', 'mode': 'ro'}},
        'restart_policy': 'on-failure:3',
        'mounts': [{'target': '/t', 'source': 'vol', 'read_only': True}],
        'ulimits': [{'name': 'nofile', 'soft': 1024, 'hard': 2048}],
        'log_config': {'type': 'json-file', 'config': {'max-size': '1m'}},
        'healthcheck': {'test': ['CMD', 'true'], 'interval': '1m30s', 'retries': 2},
        'mem_limit': '512m', 'command': 'echo "a b"',
    })
    host, create = parts['host'], parts['create']
    assert host['binds'] == ['/h:/c:rw', '/r:/ro:ro']
    assert host['restart_policy'] == {'Name': 'on-failure', 'MaximumRetryCount': 3}
    assert host['mounts'] == [{'Target': '/t', 'Source': 'vol', 'Type': 'volume',
                               'ReadOnly': True}]
    assert host['ulimits'] == [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}]
    assert host['log_config'] == {'Type': 'json-file', 'Config': {'max-size': '1m'}}
    assert host['mem_limit'] == 512 * 1024 ** 2
    assert create['healthcheck'] == {'Test': ['CMD', 'true'], 'Interval': 90 * 10 ** 9,
                                     'Retries': 2}
    assert create['command'] == ['echo', 'a b']
    # The SDK takes every one of these as it is.
    api = docker.APIClient(version='1.41')
    api.create_host_config(**host)
    api.create_container_config(image='i', **create)


def test_container_table_matches_the_sdk():
    create_kw = set(inspect.signature(ContainerApiMixin.create_container).parameters)
    host_kw = set(inspect.signature(HostConfig.__init__).parameters)
    for option in CONTAINER:
        keyword = option.sdk_keyword
        if option.section == 'plugin':
            assert keyword is None, option.name  # the plugin's own: never an SDK keyword
        elif keyword is not None:
            allowed = create_kw if option.section == 'create' else host_kw
            assert keyword in allowed, option.name
        else:  # an argument of the create call itself
            assert option.name in create_kw, option.name
    # Every HostConfig keyword is declared, so the table stays complete.
    assert host_kw - {'self', 'version'} <= {o.sdk_keyword for o in CONTAINER
                                             if o.section == 'host'}


# The engine's update call (POST /containers/{id}/update) takes the Resources of a
# HostConfig and its RestartPolicy; of these the engine applies only the fields below to
# a running container (others are accepted and left as they were: see
# tests/integration/test_drift_options.py, which updates each one for real).
ENGINE_UPDATES = {'BlkioWeight', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
                  'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Memory', 'MemorySwap',
                  'MemoryReservation', 'KernelMemory', 'NanoCpus', 'PidsLimit', 'RestartPolicy'}


def test_every_in_place_option_is_a_field_the_update_call_applies():
    in_place = {o.read.split('.')[-1]: o.name for o in CONTAINER
                if o.update is Update.UPDATE_CALL}
    assert set(in_place) == ENGINE_UPDATES, set(in_place) ^ ENGINE_UPDATES
    assert all(CONTAINER.options[name].read.startswith('HostConfig.')
               for name in in_place.values())


def test_every_compared_option_says_where_inspect_shows_it():
    for table in (CONTAINER, NETWORK, VOLUME, ENDPOINT):
        for option in table:
            assert option.compare is Compare.IGNORE or option.read, (table.name, option.name)
            assert option.doc, (table.name, option.name)


def test_other_tables_match_their_sdk_calls():
    sdk = docker.APIClient
    for table, call in ((NETWORK, sdk.create_network), (VOLUME, sdk.create_volume),
                        (IMAGE_PULL, sdk.pull), (IMAGE_IMPORT, sdk.import_image),
                        (IMAGE_BUILD, sdk.build)):
        params = set(inspect.signature(call).parameters)
        for option in table:
            if option.section not in ('plugin',):
                assert option.name in params or option.name in ('src', 'repository', 'tag'), \
                    (table.name, option.name)
    endpoint_kw = set(inspect.signature(EndpointConfig.__init__).parameters)
    connect_kw = set(inspect.signature(sdk.connect_container_to_network).parameters)
    assert set(ENDPOINT.names()) <= endpoint_kw and set(ENDPOINT.names()) <= connect_kw


def test_network_and_volume_tables():
    parts = NETWORK.validate({'driver': 'bridge', 'internal': True, 'ipam': {
        'config': [{'subnet': '10.9.0.0/24', 'gateway': '10.9.0.1'}]}}, 'network_config')
    assert parts['create']['ipam']['Config'] == [{'Subnet': '10.9.0.0/24',
                                                  'Gateway': '10.9.0.1'}]
    with pytest.raises(InvalidInputError, match=r'network_config\.ipam\.config\[0\]\.cidr'):
        NETWORK.validate({'ipam': {'config': [{'cidr': 'x'}]}}, 'network_config')
    with pytest.raises(InvalidInputError, match=r'network_config\.ipam\.options'):
        NETWORK.validate({'ipam': {'options': [1]}}, 'network_config')
    with pytest.raises(InvalidInputError, match=r'volume_config\.size'):
        VOLUME.validate({'size': 1}, 'volume_config')
    with pytest.raises(InvalidInputError, match=r'ipv4_address'):
        ENDPOINT.validate({'ipv4_address': '::1'}, 'rel')
    assert MOUNT.parse({'target': '/d'}, 'rel')['read_only'] is False


def test_action_tables_accept_timeout_and_refuse_the_unknown():
    for name, table in ACTIONS.items():
        assert table.options['timeout'].default == 60, name
        with pytest.raises(InvalidInputError, match='colour'):
            table.parse({'colour': 'red'})
    assert ACTIONS['logs'].parse({'timeout': 5})['timeout'] == 5


def secret_values(name, value):
    return kinds.all_secret_inputs()[name](value)


def test_secrets_are_found_by_the_tables():
    assert secret_values('container_config', {'secret_environment': {'A': 'sv'},
                                              'environment': {'B': 'plain'}}) == ['sv']
    assert secret_values('image_pull', {'auth_config': {'username': 'u', 'password': 'pw'}}) \
        == ['pw']
    assert secret_values('push', [{'repository': 'r', 'auth': {'identity_token': 'tok'}}]) \
        == ['tok']
    assert 'k' in secret_values('daemon_client', {'tls': {'client_key': 'k'}})
    assert secret_values('daemon_client', 'not even a dict') == []


def test_min_api_is_enforced_by_the_table():
    with pytest.raises(InvalidInputError, match=r'container_config\.cgroupns: needs Docker API '
                                                r'1\.41'):
        CONTAINER.check_api({'cgroupns': 'host'}, '1.40', 'container_config')
    CONTAINER.check_api({'cgroupns': 'host'}, '1.41', 'container_config')
    assert api_tuple('1.45') > api_tuple('1.9')
    assert DAEMON_CLIENT.options['client_key'].secret
