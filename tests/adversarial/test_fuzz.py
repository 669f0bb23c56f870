"""The fuzz tier: every task input, generated from the option tables (see fuzzing.py).

``container_config``, ``container_start``, ``network_config`` and
``volume_config`` go to the real engine (what validation accepts, the engine
must accept too, and nothing is left behind); inputs whose accepted values
would only make an engine wait or reach out (images, waits, actions, the
client itself) are sent to a closed port after validation. Seeded; the
number of examples per input is DOCKER_PLUGIN_FUZZ_EXAMPLES (120 by default).
"""

from __future__ import annotations

import uuid

import pytest
from cloudify.mocks import MockCloudifyContext
from cloudify.state import current_ctx
from fuzzing import GARBAGE, SETTINGS, Outcomes, anything_but_a_dict, table_dicts
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.ssh_engine import generate_key
from hypothesis import given
from hypothesis import strategies as st

from docker_plugin import tasks
from docker_plugin.options.actions import ACTIONS
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_IMPORT, IMAGE_PULL
from docker_plugin.options.lifecycle import REMOVE, STOP, WAIT_FOR
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.options.volume import MOUNT, VOLUME
from docker_plugin.tasks import container_actions, container_commands, network, volume

pytestmark = [pytest.mark.engine, pytest.mark.fuzz]
BASE = 'docker-plugin/busybox:latest'
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
OUTCOMES = Outcomes()
ACTION_OPS = {name: getattr(container_actions, name, None) or getattr(
    container_commands, {'exec': 'exec_command'}.get(name, name)) for name in ACTIONS}


@pytest.fixture(scope='module', autouse=True)
def report():
    yield
    OUTCOMES.save()


def _ctx(deployment: str, runtime=None, properties=None):
    ctx = MockCloudifyContext(
        node_id=f'f_{uuid.uuid4().hex[:8]}', node_name='f', deployment_id=deployment,
        blueprint_id='fuzz', properties=properties or {}, runtime_properties=runtime or {},
        operation={'name': 'op', 'retry_number': 0, 'max_retries': 0})
    current_ctx.set(ctx)
    return ctx


def _leaves_nothing(docker_client, deployment):
    try:
        assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING
    finally:
        remove_labelled(docker_client, {'cloudify.deployment': deployment})


# ----------------------------------------------------------------- containers
BASELINE = {'image': BASE, 'command': ['sleep', '60']}


@SETTINGS
@given(raw=st.one_of(table_dicts(CONTAINER, max_size=3), anything_but_a_dict()))
def test_container_config(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    # The image stays the local one: another name would be pulled from the internet
    # (image references are fuzzed through image_pull, against a closed port).
    config = {**BASELINE, **raw, 'image': BASE} if isinstance(raw, dict) else raw
    ctx = _ctx(deployment, properties={'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True, 'v': True}})
    fields = ('container_config', 'runtime_properties')

    def lifecycle():
        try:
            tasks.configure(ctx=ctx, container_config=config)
            tasks.run(ctx=ctx, container_config=config)
        finally:
            tasks.delete(ctx=ctx, container_config={'image': BASE})
    OUTCOMES.check('container_config', fields, lifecycle)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(raw=st.one_of(table_dicts(CONTAINER, max_size=3), anything_but_a_dict()))
def test_container_start(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    ctx = _ctx(deployment, properties={'container_config': BASELINE,
                                       'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True}})

    def lifecycle():
        try:
            tasks.configure(ctx=ctx)
            tasks.run(ctx=ctx, container_start=raw)
        finally:
            tasks.delete(ctx=ctx)
    OUTCOMES.check('container_start', ('container_start', 'container_config'), lifecycle)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(stop=st.one_of(table_dicts(STOP), anything_but_a_dict()),
       remove=st.one_of(table_dicts(REMOVE), anything_but_a_dict()))
def test_container_stop_and_remove(stop, remove):
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('container_stop', ('container_stop',),
                   lambda: tasks.stop(ctx=ctx, daemon_client=DOWN, container_stop=stop),
                   engine_down=True)
    OUTCOMES.check('container_remove', ('container_stop', 'container_remove'),
                   lambda: tasks.delete(ctx=ctx, daemon_client=DOWN, container_remove=remove),
                   engine_down=True)


# ----------------------------------------------------------------- images
@SETTINGS
@given(kind=st.sampled_from(['image_build', 'image_import', 'image_pull']), data=st.data())
def test_image_sources(kind, data):
    table = {'image_build': IMAGE_BUILD, 'image_import': IMAGE_IMPORT,
             'image_pull': IMAGE_PULL}[kind]
    raw = data.draw(st.one_of(table_dicts(table), anything_but_a_dict()))
    ctx = _ctx('fuzz-down')
    fields = (kind, 'image_import/image_build', 'container_config')
    OUTCOMES.check(kind, fields, lambda: tasks.create(ctx=ctx, daemon_client=DOWN, **{kind: raw}),
                   engine_down=True)


# ----------------------------------------------------------------- the client
# ssh:// ones too: a closed port on loopback (never a name to resolve), or refused before.
SAFE_URLS = ['tcp://127.0.0.1:9', 'unix:///nonexistent/docker.sock', 'ssh://user@127.0.0.1:9',
             'ftp://x', 'tcp://127.0.0.1:99999', 'tcp://', 'https://127.0.0.1:9', '１',
             'npipe:////./pipe/docker', 'ssh://127.0.0.1:9', 'ssh://u:pw@127.0.0.1:9',
             'ssh://u@127.0.0.1:9/docker.sock', 'ssh://u@[::1]:9', 'ssh://u@127.0.0.1:９',
             'ssh://u@127.0.0.1:0', 'ssh://']
SAFE_HOSTS = ['127.0.0.1', '::1', '[::1]', 'bad host', '', 'localhost-not', '１２７.0.0.1']
NON_TEXT = GARBAGE.filter(lambda v: not isinstance(v, str))
PEMS = ['-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----', '/no/such.pem',
        '-----BEGIN', '']
SSH_KEY, SSH_PUBLIC = generate_key()  # a real key, so that examples get to connect
SSH_KEYS = [SSH_KEY, SSH_KEY.replace('\n', '\r\n'), SSH_KEY.splitlines()[1], '/root/.ssh/id_rsa',
            '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
            '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nnot really\n'
            '-----END RSA PRIVATE KEY-----', *PEMS]
KNOWN_HOSTS = [f'127.0.0.1 {SSH_PUBLIC}', f'[127.0.0.1]:9 {SSH_PUBLIC} comment',
               f'|1|c2FsdA==|aGFzaA== {SSH_PUBLIC}', '127.0.0.1 ssh-ed25519 AAAA',
               '127.0.0.1 ssh-unknown AAAAB3Nz', f'@revoked * {SSH_PUBLIC}', 'host-only', '',
               '# only a comment', [f'127.0.0.1 {SSH_PUBLIC}'], [f'127.0.0.1 {SSH_PUBLIC}', 7]]


def _daemon_values():
    return st.fixed_dictionaries({}, optional={
        'base_url': st.one_of(st.sampled_from(SAFE_URLS), GARBAGE.filter(
            lambda v: not isinstance(v, str))),
        'host': st.one_of(st.sampled_from(SAFE_HOSTS), NON_TEXT),
        'port': st.one_of(st.sampled_from([9, '9', '２３７６', 0, 70000, -1, '9x']), NON_TEXT),
        'version': st.one_of(st.sampled_from(['auto', '1.41', '1.12', '１.41', 1.41, 'v2']),
                             GARBAGE),
        'timeout': st.one_of(st.sampled_from([2, 0, -1, float('nan'), 10 ** 30]), GARBAGE),
        'tls': st.one_of(st.booleans(), table_dicts(DAEMON_CLIENT, max_size=2), GARBAGE),
        'tls_verify': GARBAGE, 'ca_cert': st.one_of(st.sampled_from(PEMS), GARBAGE),
        'client_cert': st.one_of(st.sampled_from(PEMS), GARBAGE),
        'client_key': st.one_of(st.sampled_from(PEMS), GARBAGE),
        'max_pool_size': GARBAGE, 'user_agent': GARBAGE, 'use_env': GARBAGE,
        'colour': GARBAGE, 'docker_host': st.sampled_from(SAFE_URLS), **_ssh_values()})


def _ssh_values():
    return {'ssh_key': st.one_of(st.sampled_from(SSH_KEYS), GARBAGE),
            'ssh_key_passphrase': st.one_of(st.sampled_from(['open sesame', '', 'x' * 5000]),
                                            GARBAGE),
            'known_hosts': st.one_of(st.sampled_from(KNOWN_HOSTS), GARBAGE),
            'ssh_verify_host_key': st.one_of(st.booleans(), GARBAGE),
            'ssh_timeout': st.one_of(st.sampled_from([1, 0, -1, 1e-9, float('nan'), 4000]),
                                     GARBAGE)}



@SETTINGS
@given(raw=st.one_of(_daemon_values(), anything_but_a_dict()))
def test_daemon_client(raw):
    if isinstance(raw, dict) and not any(k in raw for k in ('base_url', 'host', 'docker_host')):
        raw = {**raw, 'base_url': 'tcp://127.0.0.1:9'}  # never the real engine by default
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('daemon_client', ('daemon_client', 'DOCKER_HOST'),
                   lambda: tasks.stop(ctx=ctx, daemon_client=raw, container_stop={}),
                   engine_down=True)


# A valid ssh:// engine on a closed loopback port, with its fields fuzzed one by one: what
# validation lets through connects, and is refused there (permanent, naming base_url).
SSH_DOWN = {'base_url': 'ssh://fuzz@127.0.0.1:9', 'ssh_key': SSH_KEY, 'ssh_timeout': 2,
            'known_hosts': f'[127.0.0.1]:9 {SSH_PUBLIC}'}


@st.composite
def _ssh_changes(draw):
    """Up to two of the fields changed (or dropped), so that many examples connect."""
    values = {**_ssh_values(), 'tls': st.one_of(st.booleans(), GARBAGE),
              'base_url': st.sampled_from([u for u in SAFE_URLS if u.startswith('ssh')]),
              'version': st.sampled_from(['auto', '1.41', '1.12'])}
    names = draw(st.lists(st.sampled_from(sorted(values)), max_size=2, unique=True))
    return {name: draw(values[name]) for name in names}


@SETTINGS
@given(over=_ssh_changes())
def test_daemon_client_ssh(over):
    raw = {**SSH_DOWN, **over}
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('daemon_client ssh://', ('daemon_client', 'DOCKER_HOST'),
                   lambda: tasks.stop(ctx=ctx, daemon_client=raw, container_stop={}),
                   engine_down=True)


# ----------------------------------------------------------------- waits and actions
@SETTINGS
@given(raw=st.one_of(table_dicts(WAIT_FOR), anything_but_a_dict()))
def test_wait_for(raw):
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('wait_for', ('wait_for',),
                   lambda: tasks.run(ctx=ctx, daemon_client=DOWN, wait_for=raw),
                   engine_down=True)


@SETTINGS
@given(name=st.sampled_from(sorted(ACTIONS)), data=st.data())
def test_action_inputs(name, data):
    # Operation inputs are keyword arguments: their names are always strings.
    raw = {str(k): v for k, v in data.draw(table_dicts(ACTIONS[name])).items()}
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    fields = (*ACTIONS[name].names(), *map(str, raw), 'resources')
    OUTCOMES.check(f'action {name}', tuple(fields),
                   lambda: ACTION_OPS[name](ctx=ctx, daemon_client=DOWN, **raw),
                   engine_down=True)


# ----------------------------------------------------------------- networks, volumes
@SETTINGS
@given(raw=st.one_of(table_dicts(NETWORK), anything_but_a_dict()))
def test_network_config(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    ctx = _ctx(deployment)
    pools = isinstance(raw, dict) and isinstance(raw.get('ipam'), dict) and raw['ipam'].get(
        'config')
    # Addresses are checked, but never given to the engine: a fuzzed subnet could
    # shadow a route of this machine.
    daemon = DOWN if pools else {}

    def lifecycle():
        try:
            network.create(ctx=ctx, daemon_client=daemon, network_config=raw)
        finally:
            if not daemon:
                network.delete(ctx=ctx)
    OUTCOMES.check('network_config', ('network_config', 'name'), lifecycle,
                   engine_down=bool(daemon))
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(raw=st.one_of(table_dicts(VOLUME), anything_but_a_dict()))
def test_volume_config(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    ctx = _ctx(deployment)

    def lifecycle():
        try:
            volume.create(ctx=ctx, volume_config=raw)
        finally:
            volume.delete(ctx=ctx)
    OUTCOMES.check('volume_config', ('volume_config', 'name'), lifecycle)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(endpoint=table_dicts(ENDPOINT), mount=table_dicts(MOUNT))
def test_relationship_properties(endpoint, mount):
    from docker_plugin.errors import InvalidInputError
    for name, table, raw in (('connected_to_network', ENDPOINT, endpoint),
                             ('mounts_volume', MOUNT, mount)):
        def validate(table=table, raw=raw):
            try:
                table.parse(raw, 'relationship to x')
            except InvalidInputError as exc:
                from cloudify.exceptions import NonRecoverableError
                raise NonRecoverableError(str(exc)) from None
        OUTCOMES.check(name, ('relationship to x',), validate)

