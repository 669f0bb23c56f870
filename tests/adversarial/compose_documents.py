"""Compose documents for the fuzz tier: garbage, and projects an engine may really run.

``garbage_definitions`` is what a blueprint could put in ``definition`` by
mistake: wrong types, YAML text that is not a compose file, unknown keys,
huge and deeply nested values, interpolation gone wrong, an alias bomb.

``projects(engine_safe=True)`` is a compose document of one or two services
drawn from a vocabulary of compose keys, each with plausible values (valid
and not) and non-text garbage. Engine-safe documents can be run on the local
engine: every service runs the local base image with ``pull_policy: never``
and a command that keeps running; nothing mounts a host path, publishes a
fixed host port, joins the host's namespaces, builds, pulls, or names a DNS
server other than a loopback address. ``engine_safe=False`` (for the importer,
which runs nothing) adds builds, host ports, bind mounts, secrets,
``network_mode``, ``depends_on`` conditions and images of any name.
"""

from __future__ import annotations

from typing import Any

import yaml
from fuzzing import GARBAGE, NUMBERS
from hypothesis import strategies as st

BASE = 'docker-plugin/busybox:latest'
LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"]

# Garbage without text, where text could spell a host path or a fixed host port.
NO_TEXT = st.recursive(st.one_of(st.none(), st.booleans(), NUMBERS),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.integers(), inner, max_size=2), max_leaves=4)
DURATIONS = ['1s', '500ms', '2m', '1h30m', '-1s', 'x', '', '1e309s', '１s', '10' * 20, 5, 1.5]
SIZES = ['64m', '1g', '512k', '6m', '1k', '0', '-1', 'x', '１m', '1e3m', 1048576, 10 ** 30,
         '10' * 20]
NAMES = ['a', 'A', 'web', 'x y', '', '-x', 'ok_name', 'ü', '${X}', 'a' * 300]


def _one(*values: Any) -> st.SearchStrategy:
    return st.sampled_from(list(values))


def _or_garbage(plausible: st.SearchStrategy, garbage: st.SearchStrategy = GARBAGE,
                ) -> st.SearchStrategy:
    return st.one_of(plausible, plausible, plausible, garbage)


def _env() -> st.SearchStrategy:
    mapping = st.dictionaries(st.one_of(st.text(min_size=1, max_size=6), _one(*NAMES)),
                              st.one_of(st.text(max_size=8), st.integers(), st.booleans(),
                                        st.none(), _one('$$X', '${X}', '${X:?boom}', '$')),
                              max_size=3)
    listed = st.lists(st.one_of(st.text(max_size=8), _one('A=1', 'A', '=x', 'A==', 'A=${Y}')),
                      max_size=3)
    return st.one_of(mapping, listed)


HEALTHCHECKS = st.one_of(
    # A passing test checked every second (a default 30 s interval would outlast the wait).
    st.fixed_dictionaries({'test': _one(['CMD', 'true'], 'exit 0', ['CMD-SHELL', 'true']),
                           'interval': _one('1s', '500ms', 'x', '-1s', '', 5)},
                          optional={'timeout': _one('1s', '2s', 'x', 0),
                                    'retries': _one(1, 3, -1, 'x', 10 ** 30),
                                    'start_period': _one('0s', '1s', 'x'),
                                    'start_interval': _one('1s', 'x')}),
    _one({'disable': True}, {'test': ['NONE']}, {'test': ['BOGUS', 'true']}, {'test': []}),
    NO_TEXT)

def _v(valid: list[Any], invalid: list[Any], garbage: st.SearchStrategy = GARBAGE,
       ) -> st.SearchStrategy:
    """Mostly valid values (so that examples reach the engine), some invalid, a little
    garbage."""
    good = st.sampled_from(valid)
    return st.one_of(good, good, good, good, good, st.sampled_from(invalid), garbage)


# Each key of an engine-safe service: valid values, invalid ones.
SAFE_SERVICE_KEYS: dict[str, st.SearchStrategy] = {
    'environment': _or_garbage(_env()),
    'labels': _or_garbage(st.one_of(st.dictionaries(st.text(min_size=1, max_size=6),
                                                    st.text(max_size=6), max_size=3),
                                    st.lists(_one('a=b', 'a', '=b', 'com.x=1'), max_size=3))),
    'working_dir': _v(['/', '/tmp', '/nonexistent'], ['rel', '']),
    'user': _v(['root', '0', '65534', 'nobody', '0:0'], ['nobody2', 'x:y', '']),
    'hostname': _v(['h', 'a-b'], ['a' * 70, 'bad host!', '-x', '']),
    'domainname': _v(['example.test', ''], ['bad domain']),
    'stop_signal': _v(['SIGTERM', 'SIGKILL', 'SIGUSR1', '9'], ['SIGFOO', '0', '']),
    'stop_grace_period': _v(['1s', '500ms', '2m', '1h30m'],
                            ['-1s', 'x', '', '1e309s', '１s', '10' * 20, 5, 1.5]),
    'restart': _v(['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:3'],
                  ['on-failure:x', 'sometimes']),
    'init': _v([True, False], ['yes']),
    'read_only': _v([True, False], ['no']),
    'tty': _v([True, False], [2]),
    'stdin_open': _v([True, False], ['x']),
    'shm_size': _v(['64m', '1g', '512k', 1048576], ['0', '-1', 'x', '１m', '1e3m', 10 ** 30]),
    'mem_limit': _v(['64m', '1g', '6m'], ['1k', '-1', 'x', '１m', 10 ** 30, '10' * 20]),
    'memswap_limit': _v(['128m', -1], ['1k', 'x']),
    'mem_reservation': _v(['32m'], ['x', '-5m']),
    'cpus': _v([0.5, 1, '1.5'], [0, -1, 1000, 'x', 1e-9]),
    'cpu_shares': _v([512, 2], [1, -1, 2 ** 70, 'x']),
    'pids_limit': _v([100, -1], [0, 'x', 10 ** 30]),
    'oom_score_adj': _v([-1000, 0, 1000], [2000, 'x']),
    'cap_add': _v([['NET_ADMIN'], ['SYS_TIME'], []], [['NOPE'], 'NET_ADMIN']),
    'cap_drop': _v([['ALL'], ['CHOWN']], [['NOPE']]),
    'dns': _v(['127.0.0.53', ['::1']], ['not-an-ip', ['']]),
    'dns_search': _v(['example.test', ['a', 'b']], ['', ['bad domain!']]),
    'extra_hosts': _v([['a:127.0.0.1'], {'h': '127.0.0.1'}, ['a=127.0.0.1']],
                      [['bad'], {'h': 'not-an-ip'}]),
    'tmpfs': _v(['/run', ['/tmp:size=1m']], ['rel', ['/t:size=x']], NO_TEXT),
    'ulimits': _v([{'nofile': {'soft': 1024, 'hard': 2048}}, {'nproc': 65535}],
                  [{'bogus': 1}, {'nofile': {'soft': 10, 'hard': 1}}, {'nofile': -1},
                   {'nofile': 'x'}]),
    'sysctls': _v([{'net.ipv4.ip_unprivileged_port_start': 0}, ['net.core.somaxconn=1024']],
                  [{'kernel.bogus': 1}, {'vm.swappiness': 10}]),
    'expose': _v([['80'], ['80-82'], ['80/udp'], [80]], [['x'], [99999], 80]),
    'ports': _v([['127.0.0.1::80'], [{'target': 80, 'host_ip': '127.0.0.1'}]],
                [['127.0.0.1::99999'], [{'target': 'x'}], ['127.0.0.1::80/bogus'],
                 [{'target': 80, 'host_ip': '127.0.0.1', 'protocol': 'sctp'}]], NO_TEXT),
    'healthcheck': HEALTHCHECKS,
    'logging': _v([{'driver': 'json-file', 'options': {'max-size': '1m'}}, {'driver': 'none'},
                   {'driver': 'local'}],
                  [{'driver': 'nope'}, {'driver': 'json-file', 'options': {'max-size': 'x'}},
                   {'driver': 'json-file', 'options': {'bogus': '1'}}]),
    'volumes': _v([['data:/data'], ['/anon'], [{'type': 'tmpfs', 'target': '/t'}]],
                  [['undeclared:/x'], [{'type': 'volume', 'source': 'data', 'target': 'rel'}],
                   [{'type': 'tmpfs', 'target': '/t', 'tmpfs': {'size': 'x'}}],
                   ['data:/data:bogus-mode']], NO_TEXT),
    'networks': _v([['net1'], {'net1': {'aliases': ['x']}}, {'net1': None}, ['default']],
                   [['undeclared'], {'net1': {'ipv4_address': '10.1.2.3'}}], NO_TEXT),
    'deploy': _v([{'replicas': 2}, {'resources': {'limits': {'memory': '64m', 'cpus': '0.5'}}},
                  {'restart_policy': {'condition': 'on-failure', 'max_attempts': 3}},
                  {'mode': 'replicated', 'replicas': 0}],
                 [{'replicas': -1}, {'replicas': 'x'}, {'replicas': 10 ** 30},
                  {'resources': {'limits': {'memory': 'x'}}},
                  {'resources': {'limits': {'cpus': -1}}},
                  {'resources': {'reservations': {'devices': [{'capabilities': ['gpu']}]}}},
                  {'restart_policy': {'condition': 'bogus'}}, {'mode': 'global'},
                  {'mode': 'bogus'}]),
    'scale': _v([0, 1, 2], [-1, 'x', 10 ** 30]),
    'depends_on': _v([['side'], {'side': {'condition': 'service_started'}}],
                     [['nope'], {'side': {'condition': 'bogus'}}, ['app']]),
    'profiles': _v([['p1'], []], [['bad profile!']]),
    'security_opt': _v([['no-new-privileges:true'], ['label=disable']], [['bogus']]),
    'runtime': _v(['runc'], ['nope']),
    'isolation': _v(['default'], ['hyperv', 'nope']),
    'mac_address': _v(['02:42:ac:11:00:99'], ['zz']),
    'env_file': _v([[]], [['/nonexistent/app.env'], 'missing.env'], NO_TEXT),
    'stop_grace_periods': GARBAGE,  # a typo
    'imagee': GARBAGE,  # another
    'x-extension': GARBAGE,
}
# Only where nothing runs (the importer): keys an engine must not be given by a fuzzer.
IMPORT_ONLY_KEYS: dict[str, st.SearchStrategy] = {
    'image': _or_garbage(_one('nginx:1.25', 'registry.test:5000/a/b@sha256:' + 'a' * 64,
                              'UPPER', '', 'x' * 300)),
    'build': _or_garbage(_one('.', {'context': '.', 'dockerfile': 'Dockerfile',
                                    'args': {'A': '1', 'B': None}, 'target': 't',
                                    'secrets': ['s']}, {'context': '/nonexistent'},
                              {'dockerfile_inline': 'FROM scratch'}), NO_TEXT),
    'ports': _or_garbage(_one(['8080:80'], ['0.0.0.0:80:80/udp'], ['9000-9001:80-81'],
                              [{'target': 80, 'published': '8080', 'mode': 'host'}], ['x:y'])),
    'volumes': _or_garbage(_one(['./data:/data:ro'], ['/srv:/srv'], ['data:/data'],
                                [{'type': 'bind', 'source': '.', 'target': '/s'}],
                                [{'type': 'npipe', 'source': 'x', 'target': '/y'}])),
    'network_mode': _or_garbage(_one('host', 'none', 'service:side', 'container:x', 'bogus')),
    'volumes_from': _or_garbage(_one(['side'], ['side:ro'], ['container:x'])),
    'depends_on': _or_garbage(_one({'side': {'condition': 'service_healthy'}},
                                   {'side': {'condition': 'service_completed_successfully',
                                             'restart': True, 'required': False}}, ['side'])),
    'secrets': _or_garbage(_one(['s1'], [{'source': 's1', 'target': '/run/x'}], ['undeclared'])),
    'configs': _or_garbage(_one(['c1'], [{'source': 'c1', 'target': '/c'}])),
    'links': _or_garbage(_one(['side'], ['side:alias'])),
    'develop': _or_garbage(_one({'watch': [{'action': 'sync', 'path': '.', 'target': '/a'}]})),
    'container_name': _or_garbage(_one('fixed-name', 'bad name!', '')),
    'pid': _or_garbage(_one('host', 'service:side')),
    'privileged': _or_garbage(st.booleans()),
    'devices': _or_garbage(_one(['/dev/null:/dev/x'], ['bogus'])),
    'platform': _or_garbage(_one('linux/amd64', 'bogus/arch')),
    'pull_policy': _or_garbage(_one('always', 'never', 'missing', 'build', 'daily', 'bogus')),
}
TOP_LEVEL = {
    'networks': _or_garbage(st.dictionaries(_one('net1', 'net2', 'bad name!'), st.one_of(
        st.none(), st.fixed_dictionaries({}, optional={
            'driver': _one('bridge', 'nope', 'overlay', 'null'),
            'internal': st.booleans(), 'attachable': st.booleans(),
            'enable_ipv6': _one(False, 'x'),
            'driver_opts': _one({'com.docker.network.driver.mtu': '1400'},
                                {'com.docker.network.driver.mtu': 'x'}),
            'labels': _one({'a': 'b'}, ['a=b'], 'x'), 'external': _one(False, 'x'),
            'bogus': NO_TEXT})), max_size=2), NO_TEXT),
    'volumes': _or_garbage(st.dictionaries(_one('data', 'other', 'bad name!'), st.one_of(
        st.none(), st.fixed_dictionaries({}, optional={
            'driver': _one('local', 'nope'),
            'driver_opts': _one({'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'},
                                {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'bogus'}),
            'labels': _one({'a': 'b'}, 'x'), 'external': _one(False, 'x'),
            'bogus': NO_TEXT})), max_size=2), NO_TEXT),
    'version': _or_garbage(_one('3.8', '2', 3)),
    'name': _or_garbage(_one('named-in-the-file', 'Bad Name', '')),
    'x-anchors': GARBAGE,
    'servicess': GARBAGE,
}
IMPORT_TOP_LEVEL = {
    'secrets': _or_garbage(_one({'s1': {'file': './s1.txt'}}, {'s1': {'environment': 'S1'}},
                                {'s1': {'external': True}}, {'s1': {'bogus': 1}})),
    'configs': _or_garbage(_one({'c1': {'content': 'x'}}, {'c1': {'file': './c1'}})),
    'include': _or_garbage(_one(['/nonexistent/compose.yaml'])),
}


@st.composite
def projects(draw: Any, engine_safe: bool = True) -> dict[str, Any]:
    """A compose document of one or two services (see the module's docstring)."""
    service_keys = dict(SAFE_SERVICE_KEYS)
    top_keys = dict(TOP_LEVEL)
    if not engine_safe:
        service_keys.update(IMPORT_ONLY_KEYS)
        top_keys.update(IMPORT_TOP_LEVEL)
    names = ['app'] + (['side'] if draw(st.booleans()) else [])
    services = {}
    for name in names:
        service: dict[str, Any] = {'image': BASE, 'command': LOOP, 'pull_policy': 'never'}
        for key in draw(st.lists(st.sampled_from(sorted(service_keys)), max_size=3,
                                 unique=True)):
            service[key] = draw(service_keys[key])
        services[name] = service
    document: dict[str, Any] = {'services': services}
    # Mostly what the services name (so that they can refer to it), sometimes anything.
    if draw(st.integers(0, 3)):
        document['networks'] = {'net1': draw(st.one_of(st.none(), st.fixed_dictionaries(
            {}, optional={'internal': st.booleans(), 'driver': st.just('bridge')})))}
        document['volumes'] = {'data': None}
    for key in draw(st.lists(st.sampled_from(sorted(top_keys)), max_size=1, unique=True)):
        document[key] = draw(top_keys[key])
    if engine_safe:  # the engine must not pull, whatever the fuzz put in the service
        for service in services.values():
            service.update(image=BASE, command=LOOP, pull_policy='never')
    return document


BOMB = '\n'.join(['a: &a ["x","x","x","x","x","x","x","x","x"]'] + [
    f'{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},'
    f'*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},'
    f'*{chr(97 + i)}]' for i in range(8)] + ['services: {app: {image: x, labels: [*i]}}'])
YAML_TEXTS = ['', ' ', 'services:', 'services: 5', 'services: [a, b]', '{', '- a\n- b',
              'services:\n  app:\n    image: x\n   bad-indent: 1', '!!python/object:os.system x',
              'services: {app: {image: "${X:?must be set}"}}', 'services: {app: {image: ${'
              '}}', '\ufeffservices: {}', 'services: {app: {build: {context: /nonexistent}}}',
              'a: *undefined', 'services: {"": {image: x}}', 'version: "3"', BOMB,
              'services: {app: {image: x, extends: {file: /nonexistent.yaml, service: a}}}',
              'include: [/nonexistent/compose.yaml]', '\x07\x1b[31m', 'services: {app: {}}']


def garbage_definitions() -> st.SearchStrategy:
    """What a blueprint could give as ``definition`` by mistake (and some valid ones)."""
    huge = st.sampled_from([{'services': {'app': {'image': 'x', 'labels': {'k': 'v' * 200000}}}},
                            {'services': {f's{i}': {'image': 'x'} for i in range(300)}},
                            {'x-deep': _nested(200), 'services': {'app': {'image': 'x'}}},
                            'services:\n' + '  ' * 5000 + 'x: 1'])
    text = st.one_of(st.sampled_from(YAML_TEXTS), st.text(max_size=40),
                     projects(engine_safe=False).map(
                         lambda d: yaml.safe_dump(d, allow_unicode=True)))
    garbage_dicts = st.one_of(
        st.dictionaries(st.one_of(st.sampled_from(['services', 'networks', 'volumes', 'name',
                                                   'include', 'secrets']), st.text(max_size=6)),
                        GARBAGE, min_size=1, max_size=3),
        st.fixed_dictionaries({'services': st.dictionaries(
            st.one_of(st.text(max_size=6), st.sampled_from(NAMES)), GARBAGE, min_size=1,
            max_size=2)}))
    return st.one_of(GARBAGE, text, garbage_dicts, huge, projects(engine_safe=False))


def _nested(depth: int) -> Any:
    value: Any = 'leaf'
    for _ in range(depth):
        value = {'n': value}
    return value
