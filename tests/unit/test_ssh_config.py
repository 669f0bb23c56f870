"""ssh:// engines without an engine: daemon_client -> config -> client arguments, the
key and host key parsing, the failure classification, and the transport's wiring.
The real sshd tests are in tests/integration/test_ssh_engine.py."""

from __future__ import annotations

import base64
import errno
import io
import socket
import types

import docker
import paramiko
import pytest
import requests
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

from docker_plugin import client, ssh_session, ssh_transport
from docker_plugin.client import resolve_config
from docker_plugin.errors import InvalidInputError, PluginError, TransientError, classify
from docker_plugin.resources import deadlines
from docker_plugin.resources.compose.engine import engine_environment

pytestmark = pytest.mark.filterwarnings('ignore:SSH DSA key support is deprecated')
NO_ENV: dict[str, str] = {}
HOST_KEY = ed25519.Ed25519PrivateKey.generate()
HOST_LINE = HOST_KEY.public_key().public_bytes(ser.Encoding.OpenSSH,
                                               ser.PublicFormat.OpenSSH).decode()


def _text(key, fmt=ser.PrivateFormat.OpenSSH, password: bytes | None = None) -> str:
    encryption = ser.BestAvailableEncryption(password) if password else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.PEM, fmt, encryption).decode()


@pytest.fixture(scope='module')
def keys():
    rsa_key = rsa.generate_private_key(65537, 2048)
    return {
        'ed25519': _text(ed25519.Ed25519PrivateKey.generate()),
        'rsa-pem': _text(rsa_key, ser.PrivateFormat.TraditionalOpenSSL),
        'rsa-pkcs8': _text(rsa_key, ser.PrivateFormat.PKCS8),
        'ecdsa': _text(ec.generate_private_key(ec.SECP256R1()),
                       ser.PrivateFormat.TraditionalOpenSSL),
        'ed25519-encrypted': _text(ed25519.Ed25519PrivateKey.generate(), password=b'open sesame'),
        'rsa-pem-encrypted': _text(rsa_key, ser.PrivateFormat.TraditionalOpenSSL, b'open sesame'),
        'dsa': _text(dsa.generate_private_key(1024), ser.PrivateFormat.TraditionalOpenSSL),
    }


def _ssh(keys, **over):
    raw = {'base_url': 'ssh://deploy@10.0.0.5:2222', 'ssh_key': keys['ed25519'],
           'known_hosts': f'[10.0.0.5]:2222 {HOST_LINE}'}
    raw.update(over)
    return {k: v for k, v in raw.items() if v is not None}


def _pkey() -> paramiko.PKey:
    return paramiko.Ed25519Key.from_private_key(io.StringIO(
        _text(ed25519.Ed25519PrivateKey.generate())))


def _body(key_text: str) -> list[str]:
    return [line for line in key_text.splitlines() if not line.startswith('-----')]


# ----------------------------------------------------------------- config -> client arguments
def test_an_ssh_engine_translates_to_the_docker_client_arguments(keys):
    config = resolve_config(_ssh(keys), environ=NO_ENV)
    assert (config.ssh, config.tls, config.ssh_verify_host_key, config.ssh_timeout) == (
        True, False, True, 15.0)
    assert config.known_hosts == f'[10.0.0.5]:2222 {HOST_LINE}\n' and config.host == '10.0.0.5'
    assert client.client_kwargs(config, lambda *_: pytest.fail('no PEM files for SSH')) == {
        'base_url': 'ssh://deploy@10.0.0.5:2222', 'version': 'auto', 'timeout': 60.0,
        'max_pool_size': 10, 'use_ssh_client': True}
    shown = repr(config) + config.describe()
    assert config.describe() == 'ssh://deploy@10.0.0.5:2222 (SSH, host key checked, API auto)'
    assert not any(line in shown for line in _body(keys['ed25519']))
    assert config.warning is None


def test_ssh_timeouts(keys):
    assert resolve_config(_ssh(keys, timeout=5), environ=NO_ENV).ssh_timeout == 5.0
    assert resolve_config(_ssh(keys, ssh_timeout=40), environ=NO_ENV).ssh_timeout == 40.0


def test_host_key_checking_off_is_explicit_and_said_every_time(keys):
    config = resolve_config(_ssh(keys, known_hosts=None, ssh_verify_host_key=False),
                            environ=NO_ENV)
    assert not config.ssh_verify_host_key and 'NOT checked' in config.describe()
    assert config.warning.startswith('daemon_client.ssh_verify_host_key is false')


def test_docker_host_ssh_from_the_environment_takes_no_tls_from_it(keys):
    env = {'DOCKER_HOST': 'ssh://ops@engine.example', 'DOCKER_TLS_VERIFY': '1',
           'DOCKER_CERT_PATH': '/certs'}
    config = resolve_config({'ssh_key': keys['ed25519'],
                             'known_hosts': f'engine.example {HOST_LINE}'}, environ=env)
    assert config.base_url == 'ssh://ops@engine.example' and not config.tls
    assert config.ca_cert is None


@pytest.mark.parametrize(('over', 'field'), [
    ({'base_url': 'ssh://10.0.0.5'}, 'base_url'),               # no user
    ({'base_url': 'ssh://u:pw@10.0.0.5'}, 'base_url'),           # a password in the URL
    ({'base_url': 'ssh://u@10.0.0.5/var/run/docker.sock'}, 'base_url'),
    ({'base_url': 'ssh://u@10.0.0.5:0'}, 'base_url'),
    ({'base_url': 'ssh://u@10.0.0.5:70000'}, 'base_url'),
    ({'base_url': 'ssh://u@10.0.0.5:２２'}, 'base_url'),
    ({'base_url': 'ssh://u@h ost'}, 'base_url'),
    ({'ssh_key': None}, 'ssh_key'),
    ({'ssh_key': '/home/deploy/.ssh/id_ed25519'}, 'ssh_key'),
    ({'ssh_key': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'}, 'ssh_key'),
    ({'ssh_key': ['x']}, 'ssh_key'),
    ({'known_hosts': None}, 'known_hosts'),
    ({'known_hosts': ''}, 'known_hosts'),
    ({'known_hosts': 'just-a-host-name'}, 'known_hosts'),
    ({'known_hosts': f'@revoked * {HOST_LINE}'}, 'known_hosts'),
    ({'known_hosts': f'@cert-authority *.example {HOST_LINE}'}, 'known_hosts'),
    ({'known_hosts': [f'10.0.0.5 {HOST_LINE}', 7]}, 'known_hosts[1]'),
    ({'known_hosts': ['# a comment only']}, 'known_hosts'),
    ({'ssh_verify_host_key': False}, 'ssh_verify_host_key'),  # and known_hosts: which?
    ({'ssh_verify_host_key': 'no'}, 'ssh_verify_host_key'),
    ({'ssh_timeout': 0}, 'ssh_timeout'),
    ({'ssh_timeout': float('nan')}, 'ssh_timeout'),
    ({'ssh_key_passphrase': ''}, 'ssh_key_passphrase'),
    ({'tls': True}, 'tls'),
    ({'tls_verify': False}, 'tls_verify'),
    ({'ca_cert': '/ca.pem'}, 'ca_cert'),
    ({'tls': {'client_key': '/k.pem'}}, 'tls'),
])
def test_bad_ssh_input_names_the_field(keys, over, field):
    with pytest.raises(InvalidInputError) as failure:
        resolve_config(_ssh(keys, **over), environ=NO_ENV)
    assert str(failure.value).startswith(f'daemon_client.{field}:')


@pytest.mark.parametrize('field', ['ssh_key', 'known_hosts', 'ssh_verify_host_key',
                                   'ssh_timeout', 'ssh_key_passphrase'])
@pytest.mark.parametrize('url', ['tcp://10.0.0.5:2376', 'unix:///var/run/docker.sock'])
def test_ssh_fields_are_only_for_ssh_engines(keys, field, url):
    value = {'ssh_key': keys['ed25519'], 'known_hosts': f'h {HOST_LINE}',
             'ssh_verify_host_key': True, 'ssh_timeout': 5, 'ssh_key_passphrase': 'x'}[field]
    with pytest.raises(InvalidInputError, match=rf'^daemon_client\.{field}: only for ssh://'):
        resolve_config({'base_url': url, field: value}, environ=NO_ENV)


def test_a_value_that_is_not_a_key_is_never_echoed():
    secretish = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz'
    for value in (secretish, f'-----BEGIN OPENSSH PRIVATE KEY-----\n{secretish}'):
        with pytest.raises(InvalidInputError) as failure:
            resolve_config({'base_url': 'ssh://u@h', 'ssh_key': value,
                            'known_hosts': f'h {HOST_LINE}'}, environ=NO_ENV)
        assert secretish[:16] not in str(failure.value)


def test_compose_refuses_ssh_engines(keys):
    config = resolve_config(_ssh(keys), environ=NO_ENV)
    with pytest.raises(InvalidInputError, match=r'^daemon_client\.base_url: ComposeProject'), \
            engine_environment(config):
        pass


# ----------------------------------------------------------------- keys, in memory
@pytest.mark.parametrize(('name', 'kind'), [
    ('ed25519', 'ssh-ed25519'), ('rsa-pem', 'ssh-rsa'), ('rsa-pkcs8', 'ssh-rsa'),
    ('ecdsa', 'ecdsa-sha2-nistp256')])
def test_every_usual_key_format_is_read_in_memory(keys, name, kind):
    assert ssh_session.load_key(keys[name], None).get_name() == kind
    if name == 'rsa-pem':  # a passphrase given for a plain key does no harm
        assert ssh_session.load_key(keys[name], 'unneeded').get_name() == kind


@pytest.mark.parametrize('name', ['ed25519-encrypted', 'rsa-pem-encrypted'])
def test_encrypted_keys_need_their_passphrase(keys, name):
    assert ssh_session.load_key(keys[name], 'open sesame').can_sign()
    for passphrase, problem in ((None, 'is encrypted'), ('wrong', 'does not open ssh_key')):
        with pytest.raises(InvalidInputError) as failure:
            ssh_session.load_key(keys[name], passphrase)
        assert str(failure.value).startswith('daemon_client.ssh_key_passphrase: ')
        assert problem in str(failure.value)


def test_unusable_keys_name_ssh_key_and_show_none_of_it(keys):
    damaged = keys['ed25519'].replace(_body(keys['ed25519'])[1], 'A' * 70)
    for text, problem in ((keys['dsa'], 'DSA keys are not supported'),
                          (damaged, 'is not a private key that can be read')):
        with pytest.raises(InvalidInputError) as failure:
            ssh_session.load_key(text, None)
        message = str(failure.value)
        assert message.startswith('daemon_client.ssh_key: ') and problem in message
        assert not any(line in message for line in _body(text))


# ----------------------------------------------------------------- host keys
def test_known_hosts_lines_plain_bracketed_and_hashed():
    keys = paramiko.HostKeys()
    hashed = paramiko.HostKeys.hash_host('engine.example')
    ssh_session.add_host_keys(keys, f'10.0.0.5 {HOST_LINE}\n[10.0.0.5]:2222 {HOST_LINE} c\n'
                                    f'{hashed} {HOST_LINE}\n')
    blob = base64.b64decode(HOST_LINE.split()[1])
    for name in ('10.0.0.5', '[10.0.0.5]:2222', 'engine.example'):
        assert keys.lookup(name)['ssh-ed25519'].asbytes() == blob
    assert keys.lookup('10.0.0.6') is None and keys.lookup('[10.0.0.5]:22') is None


@pytest.mark.parametrize(('line', 'problem'), [
    ('h ssh-ed25519 AAAA', "the line for 'h': its key does not decode"),
    ('h ssh-ed25519 ' + base64.b64encode(b'\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x01a').decode(),
     "the line for 'h': its key does not decode"),
    ('h ssh-rsa ' + base64.b64encode(b'\x00\x00\x00\x07ssh-rsa\x00\x00\x00\x01\x03').decode(),
     "the line for 'h': its key does not decode"),
    ('h ' + dsa.generate_private_key(1024).public_key().public_bytes(
        ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH).decode(),
     "the line for 'h': not a key type this plugin can check"),
])
def test_known_hosts_lines_that_cannot_be_used(line, problem):
    with pytest.raises(InvalidInputError, match=rf'^daemon_client\.known_hosts: {problem}'):
        ssh_session.add_host_keys(paramiko.HostKeys(), line)


# ----------------------------------------------------------------- failures, by field
def _refused(code: int) -> Exception:
    return paramiko.ssh_exception.NoValidConnectionsError(
        {('10.0.0.5', 22): OSError(code, errno.errorcode[code])})


@pytest.mark.parametrize(('exc', 'expected', 'field'), [
    (_refused(errno.ECONNREFUSED), InvalidInputError, 'base_url'),
    (_refused(errno.EHOSTUNREACH), TransientError, None),
    (socket.timeout('timed out'), TransientError, None),
    (OSError(errno.ENETUNREACH, 'Network is unreachable'), TransientError, None),
    (EOFError(), TransientError, None),
    (paramiko.AuthenticationException('Authentication failed.'), InvalidInputError, 'ssh_key'),
    (paramiko.AuthenticationException('Authentication timeout.'), TransientError, None),
    (paramiko.BadAuthenticationType('Bad authentication type', ['password']),
     InvalidInputError, 'ssh_key'),
    (paramiko.BadHostKeyException('h', _pkey(), _pkey()), InvalidInputError, 'known_hosts'),
    (paramiko.SSHException('Error reading SSH protocol banner'), TransientError, None),
    (paramiko.SSHException('Indecipherable protocol version "HTTP/1.1 400"'),
     InvalidInputError, 'base_url'),
])
def test_connection_failures_are_classified_by_the_field_to_fix(keys, exc, expected, field):
    key = ssh_session.load_key(keys['ed25519'], None)
    found = ssh_session.classify(exc, 'u@10.0.0.5:22', key)
    assert type(found) is expected
    if expected is TransientError:  # what a retried failure says
        assert 'SSH host unreachable' in str(found)
    if field:
        assert str(found).startswith(f'daemon_client.{field}: ')
    if field == 'ssh_key' and 'failed' in str(exc):
        assert ssh_session.fingerprint(key) in str(found)  # which key was refused


class FakeChannel:
    def __init__(self, status: int, stderr: bytes):
        self.status, self.stderr, self.closed = status, stderr, True

    def exit_status_ready(self):
        return True  # as paramiko's: True once closed, even without a status (-1)

    def recv_exit_status(self):
        return self.status

    def recv_stderr_ready(self):
        return bool(self.stderr)

    def recv_stderr(self, size):
        out, self.stderr = self.stderr[:size], self.stderr[size:]
        return out


@pytest.mark.parametrize(('status', 'stderr', 'expected', 'says'), [
    (127, b'sh: 1: docker: not found\n', InvalidInputError, 'is the docker CLI installed'),
    (1, b'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: '
        b'permission denied\n', InvalidInputError, 'may not use the Docker engine'),
    (1, b'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker '
        b'daemon running?\n', TransientError, 'unreachable from there'),
    (1, b'failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: '
        b'no such file or directory\n', TransientError, 'unreachable from there'),
])
def test_what_the_host_said_when_dial_stdio_failed(status, stderr, expected, says):
    found = ssh_transport.remote_failure(FakeChannel(status, stderr), 'u@h:22')
    assert type(found) is expected and says in str(found)
    assert stderr.decode().split()[-1] in str(found)  # it quotes the host
    if expected is InvalidInputError:
        assert str(found).startswith('daemon_client.base_url: ')


def test_a_dropped_session_or_a_clean_exit_is_not_the_host_talking():
    assert ssh_transport.remote_failure(FakeChannel(-1, b''), 'u@h:22') is None
    assert ssh_transport.remote_failure(FakeChannel(0, b''), 'u@h:22') is None
    assert ssh_transport.remote_failure(None, 'u@h:22') is None


def test_the_sdk_wrapping_a_transport_error_keeps_its_class():
    own = InvalidInputError('daemon_client.base_url', 'may not use the engine')
    try:
        try:
            raise own
        except PluginError as exc:
            raise docker.errors.DockerException(f'Error while fetching server API version: '
                                                f'{exc}') from exc
    except docker.errors.DockerException as wrapped:
        assert classify(wrapped, 'connect') is own


# ----------------------------------------------------------------- the transport's wiring
def test_the_plugins_adapter_replaces_docker_pys_and_closes_the_session(keys, monkeypatch):
    closed = []
    session = types.SimpleNamespace(close=lambda: closed.append(True),
                                    get_transport=lambda: None)
    monkeypatch.setattr(ssh_session, 'connect', lambda config: session)
    config = resolve_config(_ssh(keys, version='1.41'), environ=NO_ENV)
    made = docker.DockerClient(**client.client_kwargs(config, None))
    ssh_transport.attach(made.api, config)
    adapter = made.api.get_adapter(made.api._url('/containers/json'))
    assert isinstance(adapter, ssh_transport.SSHAdapter) and adapter.session is session
    assert not any(type(a).__name__ == 'SSHHTTPAdapter' for a in made.api.adapters.values())
    # A session without a transport: a lost connection (transient), never docker-py's ssh.
    with pytest.raises(requests.exceptions.ConnectionError, match=r'SSH session to .* is closed'):
        made.api.ping()
    made.close()
    assert closed == [True]


def test_a_deadline_closes_an_ssh_channel_under_a_stream():
    events = []
    channel = types.SimpleNamespace(recv_exit_status=lambda: 0,
                                    shutdown=lambda how: events.append('shutdown'),
                                    close=lambda: events.append('close'))
    response = types.SimpleNamespace(raw=types.SimpleNamespace(_fp=types.SimpleNamespace(
        fp=types.SimpleNamespace(channel=channel))))
    assert deadlines.raw_socket(response) is channel
    deadlines._shutdown(response)
    assert events == ['shutdown', 'close']


# ----------------------------------------------------------------- on a manager
@pytest.mark.parametrize(('url', 'refused'), [
    ('ssh://deploy@127.0.0.1', True), ('ssh://deploy@[::1]:2222', True),
    ('ssh://deploy@192.0.2.2:22', True),  # an address of the manager's own host
    ('ssh://deploy@10.0.0.5', False), ('ssh://deploy@engine.example:2222', False)])
def test_on_a_manager_an_ssh_engine_is_checked_like_any_other(url, refused):
    """The confinement policy (docker_plugin.confinement) keeps blueprints off the
    manager's own host: an ssh:// engine there is refused naming base_url."""
    from docker_plugin.confinement import HostFacts, Mode, Policy
    facts = HostFacts(resolve=lambda name: {'engine.example': ['10.0.0.7']}.get(name, [name]),
                      is_own=lambda address: address == '192.0.2.2')
    check = lambda: Policy(Mode.MANAGER).engine(url, 'daemon_client.base_url', facts)  # noqa: E731
    if refused:
        with pytest.raises(InvalidInputError, match=r'^daemon_client\.base_url: .*own host'):
            check()
    else:
        check()
