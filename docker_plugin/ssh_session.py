"""An SSH session to an ssh:// engine's host: its key, its host keys, its failures.

Only what ``daemon_client`` gives is used: the private key from ``ssh_key``
(text, read in memory: never written to a file, never given to an agent) and
the host's keys from ``known_hosts`` (text). Nothing of this host's SSH set-up
is read: no ``~/.ssh`` keys, config or known_hosts, no agent, no ProxyCommand.
A host whose key ``known_hosts`` does not hold, or holds another key for, is
refused, unless ``ssh_verify_host_key: false`` (then the key it offered is
logged, as a warning, so it can be pinned).

Failures name the field to fix (``docker_plugin.errors``' rules):

* the key cannot be read, is encrypted without a passphrase, or the passphrase
  is wrong: ``ssh_key`` / ``ssh_key_passphrase``, before any connection;
* a host key unknown to ``known_hosts``, or different: ``known_hosts``;
* the server refuses the key for the user: ``ssh_key``;
* nothing listens on the port (connection refused), or what answers is not an
  SSH server: ``base_url``;
* the host unreachable, silent past ``ssh_timeout``, or the connection dropped
  during the handshake: transient (Cloudify retries).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import logging
import socket
import urllib.parse
from typing import Any

import paramiko

from docker_plugin.errors import (
    InvalidInputError,
    PluginError,
    TransientError,
    UnclassifiedError,
)

FIELD = 'daemon_client'
LOG = logging.getLogger('docker_plugin.ssh')


def fingerprint(key: Any) -> str:
    """``ssh-ed25519 SHA256:...``, as ``ssh-keygen -l`` shows a key."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip('=')
    return f'{key.get_name()} SHA256:{digest}'


def load_key(text: str, passphrase: str | None) -> Any:
    """The private key as a paramiko key, read in memory.

    Raises:
        InvalidInputError: naming ``ssh_key`` or ``ssh_key_passphrase``.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    data = text.strip().encode() + b'\n'
    password = passphrase.encode() if passphrase else None
    openssh = data.startswith(b'-----BEGIN OPENSSH PRIVATE KEY-----')
    loaded: Any  # any private key type the loaders give: the kinds are checked below
    try:
        if openssh:
            loaded = serialization.load_ssh_private_key(data, password)
        else:
            try:
                loaded = serialization.load_pem_private_key(data, password)
            except TypeError:
                if password is None:
                    raise
                loaded = serialization.load_pem_private_key(data, None)  # not encrypted
    except TypeError:
        raise _needs_passphrase() from None
    except (ValueError, UnsupportedAlgorithm) as exc:  # never echoed: it may quote the key
        if 'password-protected' in str(exc) and password is None:
            raise _needs_passphrase() from None
        if password is not None:
            raise InvalidInputError(f'{FIELD}.ssh_key_passphrase', 'does not open ssh_key (or '
                                                                   'the key is damaged)') \
                from None
        raise InvalidInputError(f'{FIELD}.ssh_key', 'is not a private key that can be read '
                                                    '(Ed25519, ECDSA or RSA; OpenSSH or PEM '
                                                    'format)') from None
    kinds = ((ed25519.Ed25519PrivateKey, paramiko.Ed25519Key),
             (ec.EllipticCurvePrivateKey, paramiko.ECDSAKey), (rsa.RSAPrivateKey, paramiko.RSAKey))
    key_class = next((k for c, k in kinds if isinstance(loaded, c)), None)
    if key_class is None:
        found = type(loaded).__name__.lstrip('_').replace('PrivateKey', '')
        raise InvalidInputError(f'{FIELD}.ssh_key', f'{found} keys are not supported: use '
                                                    'Ed25519, ECDSA or RSA')
    # paramiko reads all three from OpenSSH text: the same key, still only in memory.
    plain = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption()).decode()
    return key_class.from_private_key(io.StringIO(plain))


def _needs_passphrase() -> InvalidInputError:
    return InvalidInputError(f'{FIELD}.ssh_key_passphrase', 'ssh_key is encrypted: give its '
                                                            'passphrase (e.g. from get_secret)')


def add_host_keys(keys: paramiko.HostKeys, text: str) -> None:
    """Add ``known_hosts`` (lines checked by options.ssh) to paramiko's host keys.

    Raises:
        InvalidInputError: naming ``known_hosts`` and the line.
    """
    unreadable = (paramiko.SSHException, paramiko.hostkeys.InvalidHostKey, ValueError,
                  TypeError, IndexError)
    for number, line in enumerate(text.splitlines(), 1):
        which = f'the line for {line.split()[0][:60]!r}'
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
        except unreadable as exc:
            raise InvalidInputError(f'{FIELD}.known_hosts', f'{which}: its key does not decode '
                                                            f'({type(exc).__name__})') from None
        if entry is None:
            raise InvalidInputError(f'{FIELD}.known_hosts', f'{which}: not a key type this '
                                                            'plugin can check (ssh-ed25519, '
                                                            'ecdsa-sha2-nistp256/384/521, '
                                                            'ssh-rsa)')
        for name in entry.hostnames:
            keys.add(name, entry.key.get_name(), entry.key)


class _Refuse(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        raise InvalidInputError(f'{FIELD}.known_hosts', f'holds no key for {hostname}, which '
                                                        f'offered {fingerprint(key)}: check it '
                                                        'out of band before adding it')


class _Accept(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        LOG.warning('%s.ssh_verify_host_key is false: the key of %s (%s) was not checked',
                    FIELD, hostname, fingerprint(key))


def target(config: Any) -> tuple[str, int, str, str]:
    """Host, port, user, and ``user@host:port`` for messages, of an ssh:// config."""
    parts = urllib.parse.urlsplit(config.base_url)
    host, port = parts.hostname or '', parts.port or 22
    user = urllib.parse.unquote(parts.username or '')
    return host, port, user, f'{user}@{host}:{port}'


def connect(config: Any) -> paramiko.SSHClient:
    """An authenticated session to ``config.base_url`` (an ssh:// DaemonClientConfig).

    Raises:
        InvalidInputError: naming the field to fix.
        TransientError: the host could not be reached or dropped the connection.
    """
    host, port, user, where = target(config)
    key = load_key(config.ssh_key, config.ssh_key_passphrase)
    client = paramiko.SSHClient()  # nothing loaded: no ~/.ssh/known_hosts, no config
    if config.ssh_verify_host_key:
        add_host_keys(client.get_host_keys(), config.known_hosts)
        client.set_missing_host_key_policy(_Refuse())
    else:
        client.set_missing_host_key_policy(_Accept())
    timeout = config.ssh_timeout
    try:
        client.connect(host, port=port, username=user, pkey=key, allow_agent=False,
                       look_for_keys=False, timeout=timeout, banner_timeout=timeout,
                       auth_timeout=timeout, channel_timeout=timeout)
    except BaseException as exc:
        client.close()
        if isinstance(exc, Exception):
            raise classify(exc, where, key) from None
        raise
    return client


def classify(exc: Exception, where: str, key: Any) -> PluginError:
    """A failure to connect or log in, by the field to fix (or transient)."""
    action = f'connect over SSH to {where}'
    if isinstance(exc, PluginError):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return InvalidInputError(f'{FIELD}.known_hosts', f'{where} offered '
                                                         f'{fingerprint(exc.key)}, not the key '
                                                         f'known_hosts holds '
                                                         f'({fingerprint(exc.expected_key)}): '
                                                         'the host was replaced, or someone is '
                                                         'in between')
    if isinstance(exc, paramiko.BadAuthenticationType):
        return InvalidInputError(f'{FIELD}.ssh_key', f'{where} takes no key for this user (it '
                                                     f'allows: {", ".join(exc.allowed_types)})')
    if isinstance(exc, paramiko.AuthenticationException):
        if 'timeout' in str(exc).lower():
            return TransientError(f'{action}: SSH host unreachable or slow: no answer to the '
                                  'login within ssh_timeout')
        return InvalidInputError(f'{FIELD}.ssh_key', f'{where} refused the key '
                                                     f'({fingerprint(key)}) for this user: is '
                                                     'its public half in the authorized_keys '
                                                     'of that user there?')
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        if all(e.errno == errno.ECONNREFUSED for e in exc.errors.values()):
            return InvalidInputError(f'{FIELD}.base_url', f'nothing takes connections on '
                                                          f'{where} (connection refused): is the '
                                                          'port right, and sshd running there?')
        return TransientError(f'{action}: SSH host unreachable (no route to it)')
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TransientError(f'{action}: SSH host unreachable or slow: no answer within '
                              'ssh_timeout')
    if isinstance(exc, (OSError, EOFError)):
        return TransientError(f'{action}: SSH host unreachable: {type(exc).__name__}: '
                              f'{str(exc)[:300]}')
    if isinstance(exc, paramiko.SSHException):
        text = str(exc)[:300]
        if 'Indecipherable protocol version' in text or \
                isinstance(exc, getattr(paramiko.ssh_exception, 'IncompatiblePeer', ())):
            return InvalidInputError(f'{FIELD}.base_url', f'{where} does not speak SSH as this '
                                                          f'plugin can: {text}')
        return TransientError(f'{action}: SSH host unreachable or slow: the handshake failed: '
                              f'{text}')
    return UnclassifiedError(f'{action}: {type(exc).__name__}: {str(exc)[:300]}')
