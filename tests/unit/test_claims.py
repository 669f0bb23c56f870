"""Host ports and names nodes claim (docker_plugin.claims), what an engine's host holds
(resources.host_ports, read from files like /proc's), and how every mistake is said
at once (errors.InvalidDeploymentError); every mistake in a dictionary by its table
(OptionTable.problems)."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from docker_plugin import claims
from docker_plugin.claims import Holder, NameClaim
from docker_plugin.errors import InvalidDeploymentError, Mistake
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.lifecycle import WAIT_FOR
from docker_plugin.options.ports import port_bindings
from docker_plugin.resources import host_ports
from docker_plugin.resources.container.reports import host_ports as reported_ports
from docker_plugin.resources.container.reports import summarise

ENGINE = 'unix:///var/run/docker.sock'


def _claims(raw, instances=1, node='web', engine=ENGINE):
    bindings = port_bindings(raw, 'container_config.port_bindings')
    return claims.port_claims(node, 'container_config.port_bindings', engine, instances,
                              bindings)


# ------------------------------------------------------------------ port claims
def test_what_a_binding_claims():
    found = _claims({8080: ['127.0.0.1', 18080], 8081: '18090-18099', 8082: None,
                     8083: ['127.0.0.1'], 8084: 0, '53/udp': 5353})
    assert [(c.ip, c.first, c.last, c.proto) for c in found] == [
        ('127.0.0.1', 18080, 18080, 'tcp'), ('', 18090, 18099, 'tcp'), ('', 5353, 5353, 'udp')]
    assert [c.fixed for c in found] == [True, False, True]


def test_an_address_alone_is_any_free_port_on_it():
    """The issue's {8080: ['127.0.0.1']}: refused before; any free port on the address."""
    assert port_bindings({8080: ['127.0.0.1']}, 'p') == {'8080/tcp': ('127.0.0.1',)}
    assert port_bindings({8080: '::1'}, 'p') == {'8080/tcp': ('::1',)}
    assert port_bindings({8080: ['127.0.0.1', None]}, 'p') == {'8080/tcp': ('127.0.0.1',)}
    assert port_bindings({8080: [18080, 18081]}, 'p') == {'8080/tcp': [18080, 18081]}
    with pytest.raises(Exception, match=r"p\.8080\[0\]: expected a port number"):
        port_bindings({8080: ['localhost']}, 'p')


def test_a_fixed_port_on_a_scaled_node_is_refused_naming_the_field():
    found = claims.scaled(_claims({8080: ['127.0.0.1', 18080]}, instances=3))
    assert len(found) == 1
    assert found[0].node == 'web' and found[0].field == 'container_config.port_bindings'
    assert "host port 18080 is fixed, but the node has 3 instances" in found[0].problem
    assert "'18080-18082'" in found[0].problem and 'null' in found[0].problem


@pytest.mark.parametrize(('raw', 'instances', 'refused'), [
    ({8080: 18080}, 1, False),
    ({8080: None}, 5, False),
    ({8080: ['127.0.0.1']}, 5, False),
    ({8080: '18080-18084'}, 5, False),
    ({8080: '18080-18083'}, 5, True),
    ({8080: ['127.0.0.1', '18080-18081']}, 2, False),
])
def test_ranges_and_any_free_port_fit_scaled_nodes(raw, instances, refused):
    found = claims.scaled(_claims(raw, instances=instances))
    assert bool(found) is refused
    if refused:
        assert 'the range 18080-18083 has 4 ports for 5 instances' in found[0].problem


def test_one_host_port_claimed_by_two_nodes_on_one_engine():
    ports = (_claims({8080: ['127.0.0.1', 18080]}, node='a') +
             _claims({9090: 18080}, node='b') +                 # every address: overlaps
             _claims({9090: ['127.0.0.2', 18080]}, node='c') +  # another address than a's
             _claims({9090: 18080}, node='d', engine='tcp://10.0.0.2:2376'))
    found = {m.node: m.problem for m in claims.shared(ports)}
    assert set(found) == {'a', 'b', 'c'}
    assert 'claimed by b.container_config.port_bindings too' in found['a']
    assert 'a.container_config.port_bindings, c.container_config.port_bindings' in found['b']
    assert 'a.' not in found['c'] and 'b.' in found['c']


def test_a_port_taken_by_another_deployment_or_a_process():
    ports = _claims({8080: ['127.0.0.1', 18080], 8081: '18090-18092'}, instances=1)
    holders = [Holder('0.0.0.0', 18080, 'tcp', 'container x of deployment other', 'other'),
               Holder('127.0.0.1', 18090, 'tcp', 'a process listening on 127.0.0.1:18090'),
               Holder('127.0.0.1', 18091, 'tcp', 'container mine', 'dep'),
               Holder('127.0.0.1', 18092, 'udp', 'a process')]
    found = claims.taken(ports, holders, 'dep', ENGINE)
    assert [m.problem for m in found] == [
        f'host port 18080/tcp is already taken on the host of engine {ENGINE}: container x '
        'of deployment other']
    scaled = _claims({8081: '18090-18092'}, instances=3)
    (mistake,) = claims.taken(scaled, holders, 'dep', ENGINE)
    assert mistake.problem.startswith('2 of the ports 18090-18092/tcp are free')
    assert '18090 by a process listening on 127.0.0.1:18090' in mistake.problem
    # Another engine's claims are not this engine's business; this deployment's own
    # containers (a re-run) hold their ports for themselves.
    assert claims.taken(ports, holders, 'dep', 'tcp://10.0.0.2:2376') == []
    assert claims.taken(_claims({1: 18091}), holders, 'dep', ENGINE) == []


def test_addresses_that_contend():
    assert claims.overlap('', '127.0.0.1') and claims.overlap('::', '10.0.0.1')
    assert claims.overlap('127.0.0.1', '127.0.0.1')
    assert not claims.overlap('127.0.0.1', '127.0.0.2')


def test_two_nodes_making_one_name():
    def name(node, creates=True, engine=ENGINE, what='network'):
        return NameClaim(node, 'name', engine, what, 'shared', creates)
    found = claims.shared_names([name('a'), name('b'), name('c', creates=False),
                                 name('d', engine='tcp://x:1'), name('e', what='volume')])
    assert {m.node for m in found} == {'a', 'b'}
    assert "network name 'shared' is given by node b too" in \
        next(m.problem for m in found if m.node == 'a')
    assert claims.shared_names([name('a'), name('b', creates=False)]) == []


# ------------------------------------------------------------------ the engine's host
PROC_TCP = '''  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid
   0: 0100007F:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0
   2: 0100007F:8CA0 0100007F:46A0 01 00000000:00000000 00:00000000 00000000     0
'''
PROC_TCP6 = '''  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A
   1: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A
'''
PROC_UDP = '''  sl  local_address rem_address   st
   0: 00000000:14E9 00000000:0000 07 00000000:00000000
   1: 0100007F:14EA 0100007F:0035 07 00000000:00000000
'''


def test_listening_sockets_are_read_as_proc_writes_them(tmp_path):
    (tmp_path / 'tcp').write_text(PROC_TCP)
    (tmp_path / 'tcp6').write_text(PROC_TCP6)
    (tmp_path / 'udp').write_text(PROC_UDP)
    assert list(host_ports._sockets(str(tmp_path / 'tcp'), '0A')) == [('127.0.0.1', 18080),
                                                                     ('0.0.0.0', 22)]
    assert list(host_ports._sockets(str(tmp_path / 'tcp6'), '0A')) == [('::1', 8080),
                                                                      ('127.0.0.1', 8081)]
    # a connected UDP socket holds no port others would bind
    assert list(host_ports._sockets(str(tmp_path / 'udp'), '07')) == [('0.0.0.0', 5353)]


def test_the_process_behind_a_unix_socket(tmp_path):
    path = str(tmp_path / 'engine.sock')
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    try:
        assert host_ports.engine_pid(path) == os.getpid()
        assert host_ports.engine_pid(str(tmp_path / 'none.sock')) is None
    finally:
        accepted.join(timeout=5)
        server.close()
    assert host_ports.listening('tcp://127.0.0.1:2375') is None
    assert host_ports.listening(f'unix://{tmp_path}/none.sock') is None


def test_what_the_engine_publishes_and_what_else_listens(monkeypatch):
    class Api:
        def containers(self):
            return [{'Id': 'c' * 64, 'Names': ['/web-1'],
                     'Labels': {'cloudify.deployment': 'dep'},
                     'Ports': [{'IP': '0.0.0.0', 'PrivatePort': 80, 'PublicPort': 18080,
                                'Type': 'tcp'}, {'PrivatePort': 81, 'Type': 'tcp'}]},
                    {'Id': 'd' * 64, 'Names': ['/other'], 'Labels': {},
                     'Ports': [{'IP': '127.0.0.1', 'PrivatePort': 53, 'PublicPort': 5353,
                                'Type': 'udp'}]}]
    listeners = [Holder('0.0.0.0', 18080, 'tcp', 'a process (docker-proxy)'),
                 Holder('127.0.0.1', 9000, 'tcp', 'a process listening on 127.0.0.1:9000')]
    monkeypatch.setattr(host_ports, 'listening', lambda base_url: listeners)
    found = host_ports.holders(Api(), ENGINE)
    assert found == [Holder('0.0.0.0', 18080, 'tcp', 'container web-1 of deployment dep', 'dep'),
                     Holder('127.0.0.1', 5353, 'udp', 'container other', ''),
                     listeners[1]]


# ------------------------------------------------------------------ integer host ports
def test_each_instance_reports_its_host_ports_as_integers():
    info = {'Id': 'c' * 64, 'Name': '/web', 'NetworkSettings': {'Ports': {
        '8080/tcp': [{'HostIp': '0.0.0.0', 'HostPort': '32768'},
                     {'HostIp': '::', 'HostPort': '32768'}],
        '53/udp': [{'HostIp': '127.0.0.1', 'HostPort': '18053'}],
        '9000/tcp': None}}}
    assert summarise(info)['host_ports'] == {'8080/tcp': 32768, '53/udp': 18053}
    assert reported_ports({'1/tcp': [{'host_ip': '', 'host_port': ''}]}) == {}


# ------------------------------------------------------------------ every mistake of a dict
def test_every_key_of_a_dictionary_is_checked():
    found = CONTAINER.problems({'mem_limit': 'lots', 'cap_add': 'NET_ADMIN', 'tty': True,
                                'nope': 1}, 'container_config')
    assert [e.field for e in found] == ['container_config.mem_limit', 'container_config.cap_add',
                                        'container_config.nope']


def test_what_spans_keys_is_checked_once_each_key_is_right():
    assert [e.field for e in WAIT_FOR.problems({'condition': 'nope', 'timeout': -1},
                                               'wait_for')] == ['wait_for.condition',
                                                                'wait_for.timeout']
    (both,) = CONTAINER.problems({'cpus': 1, 'nano_cpus': 10 ** 9}, 'c')
    assert 'not both' in both.problem
    assert [e.field for e in CONTAINER.problems('a string', 'container_config')] == [
        'container_config']
    assert CONTAINER.problems(None, 'container_config') == []


# ------------------------------------------------------------------ said at once
def test_every_mistake_in_one_bounded_message():
    mistakes = [Mistake('web', 'wait_for.pattern', 'required for condition log'),
                Mistake('db', 'container_config', 'expected a dictionary, got a string'),
                Mistake('web', 'relationship to db', 'a x must lead to a y'),
                Mistake('db', 'container_config', 'expected a dictionary, got a string')]
    text = str(InvalidDeploymentError('dep', mistakes))
    assert text.splitlines() == [
        '3 mistakes in deployment dep, found by validation before anything is made:',
        '  db.container_config: expected a dictionary, got a string',
        '  web, relationship to db: a x must lead to a y',
        '  web.wait_for.pattern: required for condition log']
    many = [Mistake(f'node{i:03}', 'container_config.x', 'y' * 500) for i in range(200)]
    text = str(InvalidDeploymentError('dep', many))
    assert len(text) < 4000 and text.splitlines()[0].startswith('200 mistakes')
    assert text.rstrip().endswith('more') and 'node000.container_config.x' in text
