"""The fuzz tier: every task input, generated from the option tables (see fuzzing.py).

``container_config``, ``container_start``, ``network_config`` and
``volume_config`` go to the real engine (what validation accepts, the engine
must accept too, and nothing is left behind); a container that installed
has no drift (what the table says the engine stores, it stores), and env
files with fuzzed contents go the same way; inputs whose accepted values
would only make an engine wait or reach out (images, waits, actions, the
client itself) are sent to a closed port after validation. Seeded, or
exploring, with as many examples per input as tests/helpers/fuzz_mode.py says.
"""

from __future__ import annotations

import uuid

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from fuzzing import (
    ENV_FILES,
    GARBAGE,
    SETTINGS,
    Outcomes,
    actions,
    anything_but_a_dict,
    container_grammars,
    fields_of,
    known_options,
    names_a_field,
    operation,
    table_dicts,
)
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.mock_ctx import node_ctx
from helpers.ssh_engine import generate_key
from hypothesis import assume, given
from hypothesis import strategies as st

from docker_plugin import kinds, tasks
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.actions import ACTIONS
from docker_plugin.options.comparisons import COMPARISON_MODES
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_IMPORT, IMAGE_PULL
from docker_plugin.options.lifecycle import REMOVE, STOP, UPDATE, WAIT_FOR
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.options.volume import MOUNT, VOLUME
from docker_plugin.tasks.container import lifecycle as container_state
from docker_plugin.tasks.network import lifecycle as network
from docker_plugin.tasks.volume import lifecycle as volume

pytestmark = [pytest.mark.engine, pytest.mark.fuzz]
BASE = 'docker-plugin/busybox:latest'
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
OUTCOMES = Outcomes()
ACTION_OPS = actions('container')  # the registry's; each has its input table in ACTIONS


@pytest.fixture(scope='module', autouse=True)
def report():
    yield
    OUTCOMES.save()


def _ctx(deployment: str, runtime=None, properties=None):
    return node_ctx(deployment, properties, runtime, node='f')


def _leaves_nothing(docker_client, deployment):
    try:
        assert labelled_objects(docker_client, {'cloudify.deployment': deployment}) == NOTHING
    finally:
        remove_labelled(docker_client, {'cloudify.deployment': deployment})


def test_the_invariant_wants_the_very_field():
    """What every example below is held to: an error names one of the keys it was given
    (or a required one it lacks), whole; naming only the input does not do."""
    fields = fields_of('container_config', {'cap_add': ['X'], 'image': 'i'}, CONTAINER)
    assert names_a_field('container_config.cap_add: the engine refused it', fields)
    assert names_a_field("container_config.cap_add[0]: expected a capability", fields)
    assert not names_a_field('container_config: the engine refused the container', fields)
    assert not names_a_field('container_config.image_x: unknown option', fields)
    assert not names_a_field('container_config.image is wrong', fields)
    assert fields_of('image_build', {}, IMAGE_BUILD) == ('image_build.path',)
    assert fields_of('wait_for', 'garbage') == ('wait_for',)


def _reasonless(field, raw):
    """``field`` when the example set several host options the runtime may have failed
    to apply (fuzzing.REASONLESS); '' when the plugin must name the option."""
    host = set(CONTAINER.names('host'))
    given = [k for k, v in raw.items() if k in host and v not in (None, False, 0, '', [], {})] \
        if isinstance(raw, dict) else []
    return field if len(given) > 1 else ''


# ----------------------------------------------------------------- containers
BASELINE = {'image': BASE, 'command': ['sleep', '60']}
# Options the engine acts on outside the container: a parent cgroup is made on the host
# and left there. Examples with one are validated, then sent to a closed port.
HOST_SIDE = ('cgroup_parent',)


def _daemon_for(raw):
    return DOWN if isinstance(raw, dict) and any(k in raw for k in HOST_SIDE) else {}
GRAMMARS = container_grammars(CONTAINER.names(), COMPARISON_MODES)


def _no_drift_after_install(ctx, config):
    """What the engine was given, it holds: drift right after install is none (a
    container that already ended and was removed by auto_remove has nothing to show)."""
    if ctx.instance.runtime_properties.get('state') in ('exited', 'dead', None):
        return
    found = container_state.check_drift(ctx=ctx, container_config=config)
    assert found == [], f'drift right after install: {found}'


@SETTINGS
@given(raw=st.one_of(table_dicts(CONTAINER, max_size=3, grammars=GRAMMARS),
                     anything_but_a_dict()))
def test_container_config(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    # The image stays the local one: another name would be pulled from the internet
    # (image references are fuzzed through image_pull, against a closed port).
    config = {**BASELINE, **raw, 'image': BASE} if isinstance(raw, dict) else raw
    ctx = _ctx(deployment, properties={'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True, 'v': True}})
    fields = fields_of('container_config', raw)
    daemon = _daemon_for(raw)

    def lifecycle():
        try:
            tasks.configure(ctx=ctx, container_config=config, daemon_client=daemon)
            tasks.run(ctx=ctx, container_config=config, daemon_client=daemon)
            _no_drift_after_install(ctx, config)
        finally:
            tasks.delete(ctx=ctx, container_config={'image': BASE}, daemon_client=daemon)
    OUTCOMES.check('container_config', fields, lifecycle, engine_down=bool(daemon),
                   reasonless=_reasonless('container_config', raw))
    _leaves_nothing(docker_client, deployment)


# Options a valid fuzzed value of cannot harm this machine or stop `sleep` from running:
# left out are host paths and devices, cgroups and kernel parameters of the host, volume
# drivers (a plugin is looked up), users and groups (the image's files must know them),
# what must name something that exists, and what only changes the command.
SAFE = sorted(set(CONTAINER.names()) - {
    'image', 'name', 'command', 'entrypoint', 'user', 'group_add', 'working_dir', 'env_file',
    'network_mode', 'cgroup_parent', 'privileged', 'binds', 'mounts', 'volumes_from',
    'devices', 'device_requests', 'device_cgroup_rules', 'sysctls', 'links',
    'networking_config', 'volume_driver', 'storage_opt', 'platform', 'lxc_conf', 'init_path'})


@SETTINGS
@given(raw=known_options(CONTAINER, SAFE, grammars=GRAMMARS))
def test_whatever_installs_shows_no_drift(docker_client, raw):
    """Valid values of the options above, on the real engine: installed, the container
    holds what the table says (no drift), or refused naming the field."""
    try:
        CONTAINER.validate(raw, 'container_config')
    except InvalidInputError:
        assume(False)
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    config = {**BASELINE, **raw}
    ctx = _ctx(deployment, properties={'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True, 'v': True}})

    def lifecycle():
        try:
            tasks.configure(ctx=ctx, container_config=config)
            tasks.run(ctx=ctx, container_config=config)
            _no_drift_after_install(ctx, config)
        finally:
            tasks.delete(ctx=ctx, container_config={'image': BASE})
    OUTCOMES.check('valid options, then drift', fields_of('container_config', raw), lifecycle,
                   reasonless=_reasonless('container_config', raw))
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(content=ENV_FILES, environment=st.one_of(st.none(), st.dictionaries(
    st.sampled_from(['A', 'NAME_ALONE', 'B']), st.text(max_size=5), max_size=2)))
def test_env_file_contents(docker_client, tmp_path_factory, content, environment):
    """Whatever an env file holds: installed with it (and no drift), or refused naming
    env_file; a line's text is never quoted in the refusal."""
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    path = tmp_path_factory.mktemp('env') / 'fuzz.env'
    path.write_bytes(content)
    config = {**BASELINE, 'env_file': str(path), 'environment': environment}
    ctx = _ctx(deployment, properties={'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True, 'v': True}})

    def lifecycle():
        try:
            tasks.configure(ctx=ctx, container_config=config)
            tasks.run(ctx=ctx, container_config=config)
            _no_drift_after_install(ctx, config)
        finally:
            tasks.delete(ctx=ctx, container_config={'image': BASE})
    outcome = OUTCOMES.check('env_file contents', ('container_config.env_file',
                                                   'container_config.environment'), lifecycle)
    if outcome != 'accepted':
        lines = [line for line in content.decode('utf-8', 'replace').splitlines()
                 if len(line) > 8 and '=' in line]
        try:
            lifecycle()
        except NonRecoverableError as exc:
            assert not any(line in str(exc) for line in lines), str(exc)
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(raw=st.one_of(table_dicts(CONTAINER, max_size=3, grammars=GRAMMARS),
                     anything_but_a_dict()))
def test_container_start(docker_client, raw):
    deployment = f'fuzz-{uuid.uuid4().hex[:8]}'
    ctx = _ctx(deployment, properties={'container_config': BASELINE,
                                       'container_stop': {'timeout': 0},
                                       'container_remove': {'force': True}})

    daemon = _daemon_for(raw)

    def lifecycle():
        try:
            tasks.configure(ctx=ctx, daemon_client=daemon)
            tasks.run(ctx=ctx, container_start=raw, daemon_client=daemon)
        finally:
            tasks.delete(ctx=ctx, daemon_client=daemon)
    OUTCOMES.check('container_start', fields_of('container_start', raw), lifecycle,
                   engine_down=bool(daemon), reasonless=_reasonless('container_start', raw))
    _leaves_nothing(docker_client, deployment)


@SETTINGS
@given(stop=st.one_of(table_dicts(STOP), anything_but_a_dict()),
       remove=st.one_of(table_dicts(REMOVE), anything_but_a_dict()))
def test_container_stop_and_remove(stop, remove):
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('container_stop', fields_of('container_stop', stop),
                   lambda: tasks.stop(ctx=ctx, daemon_client=DOWN, container_stop=stop),
                   engine_down=True)
    OUTCOMES.check('container_remove', fields_of('container_remove', remove),
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
    # An empty source is no source: the container then needs container_config.image.
    fields = fields_of(kind, raw, table) + (('container_config.image',) if not raw else ())
    OUTCOMES.check(kind, fields,
                   lambda: tasks.create(ctx=ctx, daemon_client=DOWN, **{kind: raw}),
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
    fields = fields_of('daemon_client', raw)
    if isinstance(raw, dict) and {'client_cert', 'client_key'} & set(raw):
        # one of the pair given: the error names the one that is missing
        fields += ('daemon_client.client_cert', 'daemon_client.client_key')
    if isinstance(raw, dict) and any(str(raw.get(k)).startswith('ssh://')
                                     for k in ('base_url', 'docker_host')):
        # what an ssh:// engine needs: the error names the one that is missing
        fields += ('daemon_client.ssh_key', 'daemon_client.known_hosts')
    OUTCOMES.check('daemon_client', fields,
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
    OUTCOMES.check('daemon_client ssh://', fields_of('daemon_client', raw),
                   lambda: tasks.stop(ctx=ctx, daemon_client=raw, container_stop={}),
                   engine_down=True)


# ----------------------------------------------------------------- waits and actions
@SETTINGS
@given(raw=st.one_of(table_dicts(WAIT_FOR), anything_but_a_dict()))
def test_wait_for(raw):
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check('wait_for', fields_of('wait_for', raw),
                   lambda: tasks.run(ctx=ctx, daemon_client=DOWN, wait_for=raw),
                   engine_down=True)


@SETTINGS
@given(name=st.sampled_from(sorted(ACTION_OPS)), data=st.data())
def test_action_inputs(name, data):
    # Operation inputs are keyword arguments: their names are always strings.
    raw = {str(k): v for k, v in data.draw(table_dicts(ACTIONS[name])).items()}
    ctx = _ctx('fuzz-down', runtime={'container_id': 'f' * 64})
    OUTCOMES.check(f'action {name}', fields_of('', raw, ACTIONS[name]),
                   lambda: ACTION_OPS[name](ctx=ctx, daemon_client=DOWN, **raw),
                   engine_down=True)


# Every kind's update, from the registry; each takes UPDATE's inputs (preview) besides its own.
UPDATES = {entry.kind: operation(entry.kind, 'update') for entry in kinds.NODES
           if any(op.name == 'update' and not interface.facade
                  for interface, op in entry.operations())}
TAKEN = {'ctx', 'daemon_client'}  # keywords the test itself passes


@SETTINGS
@given(kind=st.sampled_from(sorted(UPDATES)), data=st.data())
def test_update_inputs(kind, data):
    raw = {str(k): v for k, v in data.draw(table_dicts(UPDATE)).items() if str(k) not in TAKEN}
    ctx = _ctx('fuzz-down', runtime={kinds.node(kind).keys.id: 'f' * 64})

    def call():
        return UPDATES[kind](ctx=ctx, daemon_client=DOWN, **raw)

    try:
        UPDATE.parse({k: v for k, v in raw.items() if k in UPDATE})
    except InvalidInputError:
        # A preview that is no flag is refused naming it, before the kind reads anything.
        outcome = OUTCOMES.check(f'update of {kind}', fields_of('', raw, UPDATE), call,
                                 engine_down=True)
        assert outcome == 'refused before the engine'
        return
    try:  # a valid preview: what follows is the kind's own (its properties, the engine)
        call()
    except (NonRecoverableError, RecoverableError) as exc:
        assert not names_a_field(str(exc), ('preview',)), str(exc)[:300]


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
    fields = fields_of('network_config', raw)
    if isinstance(raw, dict) and (raw.get('scope') in ('global', 'swarm') or raw.get('ingress')
                                  or raw.get('driver') == 'overlay'):
        # asks a swarm of a lone engine: the error says daemon_client must be a manager
        fields += ('daemon_client',)
    OUTCOMES.check('network_config', fields, lifecycle,
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
    OUTCOMES.check('volume_config', fields_of('volume_config', raw), lifecycle)
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
        OUTCOMES.check(name, fields_of('relationship to x', raw, table), validate)

