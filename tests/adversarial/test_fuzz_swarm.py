"""The fuzz tier for the swarm: every swarm input, generated from its option table.

Inputs go where their acceptance can be tested without harm:

* ``service_config`` goes to the lab's swarm (``swarm`` fixture: three real
  engines): what validation accepts, the engine must accept too; the
  service is created, compared (``check_drift``, which must not break on
  what the engine gives back) and removed, leaving nothing labelled. The
  same generator also runs, at the full count and with every value as drawn
  (images from anywhere, any number of replicas), against a closed port.
* ``uses_secret``/``uses_config`` relationship properties, and Secret and
  Config node properties, go to the swarm too.
* ``swarm_config``: its settings are compared with the lab's swarm
  (``check_drift`` reads, never changes); init options, ``managers``/``workers``
  items and ``member_of_swarm`` properties are validated, then sent to a closed
  port: accepting them for real would re-form the lab's swarm.
* ``converge`` and the service actions' inputs (scale, rollback, logs, ps) go to
  a closed port after validation, as the container actions do in test_fuzz.py.
* SwarmNode properties: every value as drawn to a closed port; drawn
  availability, labels and comparisons given to a worker of the lab's swarm
  (it stays a worker: promotions are slow, the integration tier's), which must
  compare clean at once and be given back exactly as it was found on delete.
  The Swarm node's actions' inputs (rotate_join_tokens, unlock_key) go to a
  closed port: rotating for real is the integration tier's.

Real engine examples are fewer than the others (DOCKER_PLUGIN_FUZZ_SWARM_EXAMPLES,
tests/helpers/fuzz_mode.py): each makes a service on three engines. Values the
engine would accept but that would reach outside the lab or flood it (a log
driver or a volume driver that calls out, millions of tasks) are tamed on the
real swarm: their whole range goes to the closed port.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import docker
import pytest
from fuzzing import (
    GARBAGE,
    MODE,
    SETTINGS,
    TRICKY,
    VERSIONED,
    Outcomes,
    actions,
    anything_but_a_dict,
    fields_of,
    known_options,
    operation,
    table_dicts,
    table_of,
    uses,
)
from helpers.mock_ctx import Related, node_ctx, relationship_ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from docker_plugin import kinds
from docker_plugin.options.service import LOGS, SCALE, SERVICE, SERVICE_WAIT
from docker_plugin.options.swarm import (
    MEMBER,
    NODE_DRAIN,
    ROTATE_TOKENS,
    SWARM,
    SWARM_NODE,
    UNLOCK_KEY,
)
from docker_plugin.tasks import swarm_node
from docker_plugin.tasks.service import lifecycle as service
from docker_plugin.tasks.swarm import keys as swarm_keys
from docker_plugin.tasks.swarm import lifecycle as swarm_tasks
from docker_plugin.tasks.swarm import members as swarm_members

pytestmark = [pytest.mark.engine, pytest.mark.fuzz]
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
OUTCOMES = Outcomes()
# Seeded like every example of the tier (tests/helpers/fuzz_mode.py).
REAL = settings(SETTINGS, max_examples=MODE.swarm_examples)
COMMAND = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
MEMBER_REL = kinds.relationship('member_of_swarm').type_name
SAFE_LOG_DRIVERS = ('json-file', 'local', 'none')
MAX_TASKS = 3


@pytest.fixture(scope='module', autouse=True)
def report():
    yield
    OUTCOMES.save()


def _deployment() -> str:
    return f'fuzz-{uuid.uuid4().hex[:8]}'


# ------------------------------------------------------------ richer values
# table_dicts draws each option's value from its check's type; the service's grammars
# (ports, resources, placement, ...) are Custom checks whose fields it cannot see, so
# these add values in their shape, edges included, to reach the engine more often.
DURATIONS = st.one_of(st.sampled_from(['0s', '1s', '10ms', '1m30s', '1h', '0', '-1s', '1x',
                                       '１s', '5']), st.integers(-1, 10 ** 10))
SIZES = st.one_of(st.sampled_from(['4m', '64m', '1g', '0', '-1', '1x', '512', '１m']),
                  st.integers(-1, 2 ** 40))
COUNTS = st.one_of(st.integers(-2, 5), st.sampled_from([2 ** 63, -(2 ** 63), 10 ** 30]),
                   st.floats(allow_nan=True))
NAMES = st.one_of(st.from_regex(r'[a-z][a-z0-9_.-]{0,10}', fullmatch=True),
                  st.sampled_from(TRICKY))
PORTS = st.one_of(st.integers(-1, 70000), st.sampled_from(['8080:80', '80', '80/udp',
                                                           '8080:80/sctp', '0:80', '80:x']),
                  st.fixed_dictionaries({'target': st.integers(0, 65536)}, optional={
                      'published': st.integers(0, 65536),
                      'protocol': st.sampled_from(['tcp', 'udp', 'sctp', 'icmp']),
                      'mode': st.sampled_from(['host', 'ingress', 'nat'])}))
EDGES: dict[str, st.SearchStrategy] = {
    'command': st.one_of(st.just(COMMAND), st.lists(st.sampled_from(TRICKY), max_size=3)),
    'env': st.dictionaries(NAMES, st.one_of(st.text(max_size=8), st.integers()), max_size=3),
    'secret_env': st.dictionaries(NAMES, st.text(max_size=8), max_size=2),
    'hosts': st.dictionaries(NAMES, st.sampled_from(['10.1.2.3', '::1', 'host-gateway',
                                                     '300.1.1.1', 'x']), max_size=2),
    'ports': st.lists(PORTS, max_size=3),
    'resources': st.fixed_dictionaries({}, optional={
        'limits': st.fixed_dictionaries({}, optional={
            'cpus': st.one_of(st.floats(-1, 8), st.sampled_from([0.5, 1, 4097])),
            'memory': SIZES, 'pids': COUNTS}),
        'reservations': st.fixed_dictionaries({}, optional={
            'cpus': st.floats(-1, 8), 'memory': SIZES})}),
    'placement': st.fixed_dictionaries({}, optional={
        'constraints': st.lists(st.sampled_from(['node.role==worker', 'node.role!=x',
                                                 'node.labels.z==a', 'nonsense', 'a==',
                                                 '==b']), max_size=2),
        'preferences': st.lists(st.sampled_from(['node.labels.zone', '', 'spread']),
                                max_size=2),
        'max_replicas': COUNTS,
        'platforms': st.lists(st.sampled_from(['linux/amd64', 'linux', 'windows/x',
                                               '/']), max_size=2)}),
    'restart_policy': st.fixed_dictionaries({}, optional={
        'condition': st.sampled_from(['none', 'on-failure', 'any', 'always']),
        'delay': DURATIONS, 'max_attempts': COUNTS, 'window': DURATIONS}),
    'update_config': st.fixed_dictionaries({}, optional={
        'parallelism': COUNTS, 'delay': DURATIONS, 'monitor': DURATIONS,
        'failure_action': st.sampled_from(['pause', 'continue', 'rollback', 'explode']),
        'max_failure_ratio': st.one_of(st.floats(-1, 2), st.just(float('nan'))),
        'order': st.sampled_from(['stop-first', 'start-first', 'first'])}),
    'rollback_config': st.fixed_dictionaries({}, optional={
        'parallelism': COUNTS, 'delay': DURATIONS, 'monitor': DURATIONS,
        'failure_action': st.sampled_from(['pause', 'continue', 'rollback']),
        'order': st.sampled_from(['stop-first', 'start-first'])}),
    'mounts': st.lists(st.one_of(
        st.sampled_from(['data:/data', '/tmp:/host-tmp:ro', 'x', ':/y', 'a:b']),
        st.fixed_dictionaries({'target': st.sampled_from(['/scratch', 'rel', '/', ''])},
                              optional={'type': st.sampled_from(['tmpfs', 'volume', 'bind',
                                                                 'npipe']),
                                        'source': st.sampled_from(['', 'vol', '/tmp']),
                                        'read_only': st.booleans(),
                                        'tmpfs_size': SIZES})), max_size=2),
    'healthcheck': st.fixed_dictionaries({}, optional={
        'test': st.sampled_from([['CMD', 'true'], ['NONE'], 'true', ['CMD-SHELL', 'exit 0'],
                                 []]),
        'interval': DURATIONS, 'timeout': DURATIONS, 'retries': COUNTS,
        'start_period': DURATIONS}),
    'log_driver': st.fixed_dictionaries({'type': st.sampled_from(
        [*SAFE_LOG_DRIVERS, 'syslog', 'bogus'])}, optional={
        'config': st.dictionaries(st.sampled_from(['max-size', 'max-file', 'x']),
                                  st.sampled_from(['1m', '2', 'lots', '']), max_size=2)}),
    'ulimits': st.lists(st.fixed_dictionaries({'name': st.sampled_from(['nofile', 'nproc',
                                                                        'bogus'])},
                                              optional={'soft': COUNTS, 'hard': COUNTS}),
                        max_size=2),
    'replicas': COUNTS,
    'mode': st.sampled_from(['replicated', 'global', 'replicated-job', 'global-job', 'x']),
    'stop_grace_period': DURATIONS,
    'stop_signal': st.sampled_from(['SIGTERM', 'TERM', '15', 'SIGWINCH', 'KILL', 'SIGNOPE',
                                    '0', '99']),
    'endpoint_mode': st.sampled_from(['vip', 'dnsrr', 'x']),
    'networks': st.lists(st.sampled_from(['ingress', 'bridge', 'host', 'no-such-net']),
                         max_size=1),
    'secrets': st.lists(NAMES, max_size=1), 'configs': st.lists(NAMES, max_size=1),
    'cap_add': st.lists(st.sampled_from(['NET_ADMIN', 'CAP_SYS_TIME', 'BOGUS', '']),
                        max_size=2),
    'sysctls': st.dictionaries(st.sampled_from(['net.ipv4.ip_forward', 'kernel.x', 'x']),
                               st.sampled_from(['1', '0', 'x']), max_size=1),
    'hostname': st.sampled_from(['{{.Node.Hostname}}', '{{.Task.Slot}}', '{{', 'a' * 300]),
    'registry_auth': st.fixed_dictionaries({}, optional={
        'username': st.text(max_size=6), 'password': st.text(max_size=6),
        'registry': st.sampled_from(['', 'x', '127.0.0.1:9'])}),
}


ENV_NAMES = st.from_regex(r'[A-Z_][A-Z0-9_]{0,8}', fullmatch=True)
SECONDS = st.sampled_from(['0s', '1s', '100ms', '2s', 1000000])
VALID: dict[str, st.SearchStrategy] = {
    'command': st.sampled_from([COMMAND, ['sleep', '30'], 'sleep 30']),
    'entrypoint': st.sampled_from([['sh', '-c'], 'sh -c', []]),
    'env': st.dictionaries(ENV_NAMES, st.text(max_size=8), max_size=3),
    'secret_env': st.dictionaries(ENV_NAMES, st.text(min_size=1, max_size=8), max_size=2),
    'workdir': st.sampled_from(['/tmp', '/', '/no/such/dir']),
    'user': st.sampled_from(['0', 'nobody', '1000:1000', 'root']),
    'groups': st.lists(st.sampled_from(['wheel', '10', 'users']), max_size=2),
    'hosts': st.dictionaries(st.sampled_from(['db.local', 'x']), st.sampled_from(
        ['10.1.2.3', '::1', 'fe80::1']), max_size=2),
    'tty': st.booleans(), 'init': st.booleans(), 'read_only': st.booleans(),
    'ports': st.lists(st.fixed_dictionaries({'target': st.integers(1, 65535)}, optional={
        'published': st.integers(20000, 20999), 'protocol': st.sampled_from(['tcp', 'udp']),
        'mode': st.just('host')}), max_size=2),
    'resources': st.fixed_dictionaries({}, optional={
        'limits': st.fixed_dictionaries({}, optional={
            'cpus': st.sampled_from([0.1, 0.5, 1]), 'memory': st.sampled_from(['16m', '64m']),
            'pids': st.integers(0, 100)}),
        'reservations': st.fixed_dictionaries({}, optional={
            'cpus': st.sampled_from([0.01, 0.1]), 'memory': st.sampled_from(['1m', '4m'])})}),
    'placement': st.fixed_dictionaries({}, optional={
        'constraints': st.lists(st.sampled_from(['node.role==worker', 'node.role!=x',
                                                 'node.labels.zone==a']), max_size=2),
        'preferences': st.lists(st.sampled_from(['node.labels.zone', 'node.id']),
                                max_size=1),
        'max_replicas': st.integers(0, 3),
        'platforms': st.lists(st.sampled_from(['linux/amd64', 'linux']), max_size=1)}),
    'restart_policy': st.fixed_dictionaries({}, optional={
        'condition': st.sampled_from(['none', 'on-failure', 'any']), 'delay': SECONDS,
        'max_attempts': st.integers(0, 3), 'window': SECONDS}),
    'update_config': st.fixed_dictionaries({}, optional={
        'parallelism': st.integers(0, 3), 'delay': SECONDS, 'monitor': SECONDS,
        'failure_action': st.sampled_from(['pause', 'continue', 'rollback']),
        'max_failure_ratio': st.floats(0, 1), 'order': st.sampled_from(['stop-first',
                                                                        'start-first'])}),
    'rollback_config': st.fixed_dictionaries({}, optional={
        'parallelism': st.integers(0, 3), 'delay': SECONDS, 'monitor': SECONDS,
        'failure_action': st.sampled_from(['pause', 'continue']),
        'order': st.sampled_from(['stop-first', 'start-first'])}),
    'mounts': st.lists(st.one_of(
        st.just('/tmp:/host-tmp:ro'),
        st.fixed_dictionaries({'type': st.just('tmpfs'), 'target': st.just('/scratch')},
                              optional={'tmpfs_size': st.integers(0, 2 ** 24),
                                        'tmpfs_mode': st.sampled_from([0o700, 0o1777])})),
        max_size=1),
    'healthcheck': st.fixed_dictionaries({'test': st.sampled_from([
        ['CMD', 'true'], ['NONE'], ['CMD-SHELL', 'exit 0']])}, optional={
        'interval': SECONDS, 'timeout': SECONDS, 'retries': st.integers(0, 3),
        'start_period': SECONDS}),
    'log_driver': st.fixed_dictionaries({'type': st.sampled_from(SAFE_LOG_DRIVERS)}, optional={
        'config': st.just({'max-size': '1m'})}),
    'ulimits': st.lists(st.fixed_dictionaries({
        'name': st.sampled_from(['nofile', 'nproc']), 'soft': st.integers(0, 1024),
        'hard': st.integers(1024, 4096)}), max_size=1),
    'replicas': st.integers(0, MAX_TASKS),
    'mode': st.sampled_from(['replicated', 'global', 'replicated-job', 'global-job']),
    'max_concurrent': st.integers(1, MAX_TASKS),
    'stop_grace_period': SECONDS,
    'stop_signal': st.sampled_from(['SIGTERM', 'TERM', '15', 'SIGKILL']),
    'endpoint_mode': st.sampled_from(['vip', 'dnsrr']),
    'labels': st.dictionaries(NAMES, st.text(max_size=6), max_size=2),
    'container_labels': st.dictionaries(NAMES, st.text(max_size=6), max_size=2),
    'cap_add': st.lists(st.sampled_from(['NET_ADMIN', 'CAP_SYS_TIME']), max_size=1),
    'cap_drop': st.lists(st.sampled_from(['NET_RAW', 'CAP_CHOWN']), max_size=1),
    'sysctls': st.just({'net.ipv4.ip_forward': '1'}),
    'hostname': st.sampled_from(['{{.Node.Hostname}}', '{{.Task.Slot}}', 'web']),
    'force_update': st.integers(0, 10),
    'resolve_image': st.sampled_from(['always', 'never']),
    'registry_auth': st.just({'username': 'fuzz', 'password': 'fuzz-password'}),
}


@st.composite
def service_options(draw: Any, valid_share: float = 0.8) -> dict[str, Any]:
    """One to five options of the service, each mostly valid (``valid_share``), else at
    an edge of its grammar or garbage."""
    names = draw(st.lists(st.sampled_from(sorted(VALID)), min_size=1, max_size=5,
                          unique=True))
    out = {}
    for name in names:
        if draw(st.floats(0, 1)) < valid_share:
            out[name] = draw(VALID[name])
        else:
            out[name] = draw(st.one_of(EDGES.get(name, GARBAGE), GARBAGE))
    return out


def service_dicts() -> st.SearchStrategy:
    """Valid-looking options half the time (they reach the engine), else the table's keys,
    typos and garbage, or no dictionary at all."""
    return st.one_of(service_options(valid_share=1.0), service_options(),
                     service_options(valid_share=1.0), table_dicts(SERVICE, max_size=4),
                     anything_but_a_dict())


def _tamed(raw: dict[str, Any]) -> dict[str, Any]:
    """A drawn config made safe for the lab: tasks, log and volume drivers bounded."""
    out = dict(raw)
    for name in ('replicas', 'max_concurrent'):
        if isinstance(out.get(name), int) and not isinstance(out[name], bool) and \
                out[name] > MAX_TASKS:
            out[name] = MAX_TASKS
    log = out.get('log_driver')
    if isinstance(log, dict) and log.get('type') not in SAFE_LOG_DRIVERS:
        out.pop('log_driver')
    if isinstance(out.get('mounts'), list):
        out['mounts'] = [m for m in out['mounts']
                         if not (isinstance(m, dict) and 'driver_config' in m)]
    return out


@pytest.fixture(scope='module')
def manager_api(swarm_lab):
    """The API of the lab's first engine (the manager), for cheap look-ups."""
    client = docker.DockerClient(base_url=swarm_lab.manager.url, version='1.41', timeout=30)
    yield client.api
    client.close()


def _leaves_nothing(api: Any, deployment: str) -> None:
    """Nothing on the swarm is labelled with the deployment (removed if something is)."""
    label = {'label': [f'cloudify.deployment={deployment}']}
    found = {'services': [s['ID'] for s in api.services(filters=label)],
             'secrets': [s['ID'] for s in api.secrets(filters=label)],
             'configs': [c['ID'] for c in api.configs(filters=label)],
             'networks': [n['Id'] for n in api.networks(filters=label)]}
    for kind, remove in (('services', api.remove_service), ('secrets', api.remove_secret),
                         ('configs', api.remove_config), ('networks', api.remove_network)):
        for object_id in found[kind]:
            remove(object_id)
    assert not any(found.values()), found


# ----------------------------------------------------------------- services
@SETTINGS
@given(raw=service_dicts(), name=st.one_of(st.none(), NAMES))
def test_service_config_validated(raw, name):
    """Every value as drawn (any image, any number of tasks), to a closed port."""
    config = {'image': '127.0.0.1:9/app:1', **raw} if isinstance(raw, dict) else raw
    ctx = node_ctx('fuzz-down', node='svc')
    kwargs = {'service_config': config, **({'name': name} if name is not None else {})}
    fields = fields_of('service_config', config, SERVICE) + (('name',) if name is not None
                                                             else ())
    OUTCOMES.check('service_config (validated)', fields,
                   lambda: service.create(ctx=ctx, daemon_client=DOWN, **kwargs),
                   engine_down=True)


def _service_lifecycle(swarm: Any, ctx: Any, config: Any) -> None:
    """Create, compare (what the engine accepted must compare clean), refresh, remove."""
    daemon = swarm.manager.daemon_client()
    try:
        service.create(ctx=ctx, daemon_client=daemon, service_config=config)
        drift = service.check_drift(ctx=ctx, daemon_client=daemon, service_config=config)
        assert drift == [], f'drift right after create: {drift}'
        service.pull(ctx=ctx, daemon_client=daemon)
    finally:
        service.delete(ctx=ctx, daemon_client=daemon)


@REAL
@given(raw=service_dicts())
def test_service_config_on_the_swarm(swarm, manager_api, raw):
    deployment = _deployment()
    baseline = {'command': COMMAND, 'endpoint_mode': 'dnsrr', 'stop_grace_period': '1s'}
    # The image stays the lab's: another would be pulled from the internet.
    config = {**baseline, **_tamed(raw), 'image': swarm.ref('app:v1')} \
        if isinstance(raw, dict) else raw
    ctx = node_ctx(deployment, properties={'name': deployment}, node='svc')
    OUTCOMES.check('service_config', fields_of('service_config', config, SERVICE),
                   lambda: _service_lifecycle(swarm, ctx, config))
    _leaves_nothing(manager_api, deployment)


@pytest.fixture
def swarm_files(swarm, unique):
    """An object of each versioned kind (a secret, a config) on the swarm (removed with
    the test's label)."""
    made = {}
    for kind in VERSIONED:
        name = f'{unique}-{kind}'
        made[kind] = {f'{kind}_id': swarm.manager.docker(
            kind, 'create', '--label', f'cloudify.deployment={unique}', name, '/etc/hostname'),
            f'{kind}_name': name, 'base_name': kind}
    return made


USES = {kind: uses(kind) for kind in VERSIONED}  # kind: (relationship type, its table)


@REAL
@given(properties=st.fixed_dictionaries({kind: table_dicts(table)
                                         for kind, (_, table) in USES.items()}))
def test_file_use_relationships_on_the_swarm(swarm, manager_api, swarm_files, properties):
    """A service related to an object of each versioned kind (uses_secret, uses_config)."""
    deployment = _deployment()
    # A blueprint's relationship properties are a dictionary with string keys.
    related = {kind: Related(USES[kind][0], f'{kind}-target', swarm_files[kind],
                             {str(k): v for k, v in given.items()})
               for kind, given in properties.items()}
    ctx = node_ctx(deployment, properties={'name': deployment}, related=list(related.values()),
                   node='svc')
    config = {'image': swarm.ref('app:v1'), 'command': COMMAND, 'endpoint_mode': 'dnsrr',
              'stop_grace_period': '1s'}
    fields = tuple(field for kind, r in related.items() for field in fields_of(
        f'relationship to {r.target_node}', r.properties, USES[kind][1]))
    OUTCOMES.check('/'.join(r.type.rpartition('.')[2] for r in related.values()), fields,
                   lambda: _service_lifecycle(swarm, ctx, config))
    _leaves_nothing(manager_api, deployment)


@SETTINGS
@given(raw=st.one_of(table_dicts(SERVICE_WAIT), anything_but_a_dict()))
def test_converge(raw):
    ctx = node_ctx('fuzz-down', runtime={'service_id': 's' * 25}, node='svc')
    OUTCOMES.check('converge', fields_of('converge', raw, SERVICE_WAIT),
                   lambda: service.start(ctx=ctx, daemon_client=DOWN, converge=raw),
                   engine_down=True)


# The registry's service actions, with the input tables of those that take inputs.
SERVICE_ACTIONS = actions('service')
ACTION_TABLES = {name: {'scale': SCALE, 'logs': LOGS}.get(name) for name in SERVICE_ACTIONS}


@SETTINGS
@given(name=st.sampled_from(sorted(ACTION_TABLES)), data=st.data())
def test_service_action_inputs(name, data):
    table = ACTION_TABLES[name]
    drawn = data.draw(table_dicts(table) if table else st.dictionaries(
        st.text(min_size=1, max_size=8), GARBAGE, max_size=2))
    # Operation inputs are keyword arguments: their names are always strings.
    raw = {str(k): v for k, v in drawn.items()}
    if name in ('scale', 'rollback') and data.draw(st.booleans()):
        raw['converge'] = data.draw(st.one_of(table_dicts(SERVICE_WAIT), GARBAGE))
    ctx = node_ctx('fuzz-down', runtime={'service_id': 's' * 25}, node='svc')
    OUTCOMES.check(f'service {name}', fields_of('', raw, table),
                   lambda: SERVICE_ACTIONS[name](ctx=ctx, daemon_client=DOWN, **raw),
                   engine_down=True)


# ----------------------------------------------------------------- the swarm
SWARM_VALID = {
    'task_history_retention_limit': st.integers(0, 10),
    'dispatcher_heartbeat_period': st.sampled_from(['2s', '5s', 2 * 10 ** 9]),
    'snapshot_interval': st.integers(1, 20000),
    'node_cert_expiry': st.sampled_from(['2160h', '24h', '1h']),
    'autolock_managers': st.booleans(),
    'labels': st.dictionaries(NAMES, st.text(max_size=6), max_size=2),
    'advertise_addr': st.sampled_from(['10.0.0.5', 'eth0', '10.0.0.5:2377']),
    'default_addr_pool': st.lists(st.sampled_from(['10.20.0.0/16', '10.30.0.0/24']),
                                  max_size=2),
    'subnet_size': st.integers(16, 28),
}


@st.composite
def swarm_options(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(SWARM_VALID)), min_size=1, max_size=4,
                          unique=True))
    return {name: draw(SWARM_VALID[name]) for name in names}


@SETTINGS
@given(raw=st.one_of(swarm_options(), table_dicts(SWARM, max_size=4), anything_but_a_dict()))
def test_swarm_config_validated(raw):
    ctx = node_ctx('fuzz-down', node='swarm')
    OUTCOMES.check('swarm_config (init)', fields_of('swarm_config', raw, SWARM),
                   lambda: swarm_tasks.create(ctx=ctx, daemon_client=DOWN, swarm_config=raw),
                   engine_down=True)


@pytest.fixture
def adopted_swarm(swarm, unique):
    """The lab's swarm adopted by a Swarm node (kept as it is)."""
    ctx = node_ctx(unique, properties={'daemon_client': swarm.manager.daemon_client(),
                                       'use_external_resource': True}, node='swarm')
    swarm_tasks.create(ctx=ctx)
    return ctx


@SETTINGS
@given(raw=st.one_of(swarm_options(), table_dicts(SWARM, max_size=4), anything_but_a_dict()))
def test_swarm_config_compared_with_the_swarm(swarm, adopted_swarm, raw):
    """Settings compared with the lab's swarm (check_drift reads, never changes it)."""
    ctx = adopted_swarm
    OUTCOMES.check('swarm_config (drift)', fields_of('swarm_config', raw, SWARM),
                   lambda: swarm_tasks.check_drift(ctx=ctx, swarm_config=raw))


MEMBER_ITEMS = st.one_of(table_dicts(MEMBER, max_size=4).map(
    lambda d: {'daemon_client': DOWN, **d}), table_dicts(MEMBER, max_size=4), GARBAGE)


@SETTINGS
@given(managers=st.one_of(st.lists(MEMBER_ITEMS, max_size=2), GARBAGE),
       workers=st.one_of(st.lists(MEMBER_ITEMS, max_size=2), GARBAGE))
def test_managers_and_workers(managers, workers):
    ctx = node_ctx('fuzz-down', node='swarm')
    OUTCOMES.check('managers/workers', ('managers', 'workers'),
                   lambda: swarm_tasks.create(ctx=ctx, daemon_client=DOWN, managers=managers,
                                              workers=workers), engine_down=True)


@SETTINGS
@given(raw=table_dicts(MEMBER, max_size=4))
def test_member_of_swarm_relationship(raw):
    properties = {str(k): v for k, v in raw.items()}  # a blueprint's keys are strings
    relationship = Related(MEMBER_REL, 'swarm', {'swarm_id': 'x' * 25}, properties,
                           target_properties={'daemon_client': DOWN})
    ctx = relationship_ctx('fuzz-down', {'daemon_client': DOWN}, relationship)
    OUTCOMES.check('member_of_swarm', fields_of('relationship to swarm', properties, MEMBER),
                   lambda: swarm_members.join(ctx=ctx), engine_down=True)


# ----------------------------------------------------------- secrets, configs
@pytest.mark.parametrize('kind', VERSIONED)
def test_secret_and_config_properties(swarm, manager_api, kind, tmp_path):
    table = table_of(kind)
    value = tmp_path / 'value.txt'
    value.write_text('a value from a file')
    # Files that are not regular files must be refused, never read (a device has no end).
    files = st.sampled_from([str(value), '/no/such/file', '/', '/dev/null', '/dev/zero'])

    @SETTINGS
    @given(raw=st.one_of(table_dicts(table, max_size=3), anything_but_a_dict()),
           name=st.one_of(st.none(), NAMES), file=st.one_of(st.none(), files))
    def run(raw, name, file):
        deployment = _deployment()
        properties = {str(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
        if file is not None:
            properties['file'] = file
            properties.pop('data', None)
        if 'data' not in properties and 'file' not in properties:
            properties['data'] = 'a fuzzed value'
        if name is not None:
            properties['name'] = name
        if not isinstance(raw, dict):
            properties['labels'] = raw  # a property of the wrong type
        ctx = node_ctx(deployment, properties={
            **properties, 'daemon_client': swarm.manager.daemon_client()}, node=kind)

        def lifecycle():
            try:
                for name in ('create', 'check_drift', 'pull'):
                    operation(kind, name)(ctx=ctx)
            finally:
                operation(kind, 'delete')(ctx=ctx)
        # 'name' also when no option fits what the engine refused (the object itself);
        # data and file: one of the two is required, either is the field
        fields = (*fields_of('', properties, table), 'name', 'data', 'file')
        OUTCOMES.check(f'{kind} properties', fields, lifecycle)
        _leaves_nothing(manager_api, deployment)

    run()


# ----------------------------------------------------------------- swarm nodes
NODE_SPEC = ('availability', 'role', 'labels', 'comparisons')
NODE_GRAMMARS: dict[str, st.SearchStrategy] = {
    'availability': st.sampled_from(['active', 'pause', 'drain']),
    'role': st.sampled_from(['manager', 'worker']),
    'labels': st.dictionaries(NAMES, st.one_of(st.text(max_size=6), st.integers()),
                              max_size=3),
    'comparisons': st.dictionaries(st.sampled_from([*NODE_SPEC, 'node', '*', 'image']),
                                   st.sampled_from(['strict', 'allow_more_present', 'ignore',
                                                    'loose']), max_size=2),
}

# On the lab's swarm a worker stays one: promoted again soon after a demotion, a node is
# a reachable manager only after about 30 s (promotion is the integration tier's).
ON_THE_SWARM = {**NODE_GRAMMARS, 'role': st.just('worker')}


def _node_properties(raw: Any) -> dict[str, Any]:
    # A blueprint's property names are strings, and never the Base type's own.
    return {str(k): v for k, v in raw.items() if str(k) not in ('daemon_client', 'ctx')}


@SETTINGS
@given(raw=table_dicts(SWARM_NODE, max_size=4, grammars=NODE_GRAMMARS),
       wait=st.one_of(st.none(), table_dicts(NODE_DRAIN), GARBAGE))
def test_swarm_node_properties_validated(raw, wait):
    """Every value as drawn, to a closed port."""
    # a node named, so that examples get past finding it (to the closed port)
    properties = {'node': 'worker-1', **_node_properties(raw)}
    if wait is not None:
        properties['drain_wait'] = wait
    ctx = node_ctx('fuzz-down', node='swarm_node', properties=properties)
    fields = (*fields_of('', raw, SWARM_NODE), 'node',
              *fields_of('drain_wait', wait, NODE_DRAIN))
    OUTCOMES.check('swarm node (validated)', fields,
                   lambda: swarm_node.create(ctx=ctx, daemon_client=DOWN), engine_down=True)


def _node_spec(swarm: Any, host: str) -> dict[str, Any]:
    import json
    return json.loads(swarm.manager.docker('node', 'inspect', host, '--format',
                                           '{{json .Spec}}'))


@REAL
@given(raw=st.one_of(known_options(SWARM_NODE, NODE_SPEC, max_size=4, grammars=ON_THE_SWARM),
                     table_dicts(SWARM_NODE, max_size=3, grammars=ON_THE_SWARM)))
def test_swarm_node_on_the_swarm_is_given_back(swarm, raw):
    """What validation accepts the swarm accepts: a worker given the drawn availability,
    role and labels compares clean at once, and delete gives it back exactly as it was."""
    target = swarm.engines[2]
    before = _node_spec(swarm, target.name)
    properties = {'node': target.name, **_node_properties(raw),
                  'daemon_client': swarm.manager.daemon_client(),
                  'drain_wait': {'timeout': 30, 'interval': 0.2}}
    ctx = node_ctx(_deployment(), node='swarm_node', properties=properties)

    def lifecycle() -> None:
        try:
            swarm_node.create(ctx=ctx)
            drift = swarm_node.check_drift(ctx=ctx)
            assert drift == [], f'drift right after create: {drift}'
            swarm_node.pull(ctx=ctx)
        finally:
            swarm_node.delete(ctx=ctx)
    try:
        OUTCOMES.check('swarm node (on the swarm)', (*fields_of('', raw, SWARM_NODE), 'node'),
                       lifecycle)
        assert _node_spec(swarm, target.name) == before, 'not given back as it was found'
    finally:  # the next example starts from the lab's worker, whatever happened here
        _put_back(swarm, target.name, before)


def _put_back(swarm: Any, host: str, before: dict[str, Any], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while _node_spec(swarm, host) != before:
        assert time.monotonic() < deadline, f'{host} could not be put back as it was'
        labels = _node_spec(swarm, host).get('Labels') or {}
        swarm.manager.docker('node', 'update', '--availability', before['Availability'],
                             '--role', before['Role'],
                             *(a for key in labels for a in ('--label-rm', key)), host,
                             check=False)
        time.sleep(0.5)


SWARM_ACTIONS = {'rotate_join_tokens': ROTATE_TOKENS, 'unlock_key': UNLOCK_KEY}


@SETTINGS
@given(name=st.sampled_from(sorted(SWARM_ACTIONS)), data=st.data())
def test_swarm_action_inputs(name, data):
    table = SWARM_ACTIONS[name]
    # Operation inputs are keyword arguments: their names are always strings.
    raw = {str(k): v for k, v in data.draw(table_dicts(table)).items()
           if str(k) not in ('ctx', 'daemon_client')}
    ctx = node_ctx('fuzz-down', runtime={'swarm_id': 'x' * 25}, node='swarm')
    fields = (*fields_of('', raw, table), *(('secret',) if name == 'unlock_key' else ()))
    OUTCOMES.check(f'swarm {name}', fields,
                   lambda: getattr(swarm_keys, name)(ctx=ctx, daemon_client=DOWN, **raw),
                   engine_down=True)
