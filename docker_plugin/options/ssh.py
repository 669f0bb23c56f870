"""The grammar of ``daemon_client``'s ssh:// fields (declared in ``options.daemon``).

Only the form is checked here; whether the key opens, the host key lines parse
and the host is the one they name is found when connecting
(``docker_plugin.ssh_session``), and fails naming the same fields.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Mapping

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.checks import kind

# The fields only ssh:// engines take.
SSH_FIELDS = ('ssh_key', 'ssh_key_passphrase', 'known_hosts', 'ssh_verify_host_key',
              'ssh_timeout')
TLS_FIELDS = ('tls', 'tls_verify', 'ca_cert', 'client_cert', 'client_key')
URL_FORM = 'ssh://user@host or ssh://user@host:port'
CONNECT_TIMEOUT = 15.0  # at most, by default: a host that does not answer is retried
KNOWN_HOSTS_LINE = re.compile(r'[^\s#@]\S*\s+\S+\s+[A-Za-z0-9+/]+={0,3}(\s.*)?')
MAX_LINES = 1000


def ssh_url(value: str, path: str) -> str:
    """``ssh://user@host[:port]``: the user is required (never the worker's own name)."""
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        raise InvalidInputError(path, f'not a valid port in {value[:80]!r} ({URL_FORM})') \
            from None
    if parts.password is not None:
        raise InvalidInputError(path, f'no password in the URL: the key goes in ssh_key '
                                      f'({URL_FORM})')
    if not parts.username or not parts.hostname:
        raise InvalidInputError(path, f'name the SSH user and host: {URL_FORM}, got '
                                      f'{value[:80]!r}')
    if parts.path not in ('', '/') or parts.query or parts.fragment or port == 0 or \
            any(c.isspace() or c == '\x00' for c in value):
        raise InvalidInputError(path, f'expected {URL_FORM}, got {value[:80]!r}')
    return value


def private_key(value: str, path: str) -> str:
    """The key's own text. A value that is not one is never echoed: it may be a key."""
    text = value.strip()
    first = text.splitlines()[0] if text else ''
    if not (first.startswith('-----BEGIN ') and first.endswith('PRIVATE KEY-----') and
            text.endswith('-----')) or '\x00' in text or len(text) > 65536:
        raise InvalidInputError(path, 'expected the private key itself (-----BEGIN ... PRIVATE '
                                      'KEY-----, e.g. from get_secret), not a file path or '
                                      'other text')
    return text + '\n'


def known_hosts(value: Any, path: str) -> str:
    """Host key lines, as ``ssh-keyscan`` prints them and known_hosts files hold them
    (hashed host names included); one text, or a list of lines."""
    lines = value.splitlines() if isinstance(value, str) else value
    if len(lines) > MAX_LINES:
        raise InvalidInputError(path, f'expected at most {MAX_LINES} lines')
    kept = []
    for number, line in enumerate(lines, 1):
        where = path if isinstance(value, str) else f'{path}[{number - 1}]'
        if not isinstance(line, str):
            raise InvalidInputError(where, f'expected a host key line, got {kind(line)}')
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('@'):
            raise InvalidInputError(where, f'line {number}: markers (@cert-authority, '
                                           "@revoked) are not supported: list the host's own "
                                           'keys')
        if '\x00' in line or len(line) > 16384 or not KNOWN_HOSTS_LINE.fullmatch(line):
            raise InvalidInputError(where, f'line {number} is not a known_hosts line (HOST '
                                           f'KEY-TYPE BASE64-KEY), got {line[:60]!r}')
        kept.append(line)
    if not kept:
        raise InvalidInputError(path, 'holds no host key line (HOST KEY-TYPE BASE64-KEY, as '
                                      '`ssh-keyscan -p PORT HOST` prints them)')
    return '\n'.join(kept) + '\n'


def ssh_settings(opts: Mapping[str, Any], base_url: str, timeout: float,
                 field: str) -> dict[str, Any]:
    """The ssh:// fields of a parsed ``daemon_client``, checked together: what an
    ssh:// engine needs, and none of them for the others.

    Returns:
        The ``DaemonClientConfig`` fields they set ({} for other engines).

    Raises:
        InvalidInputError: naming the field that is missing, extra or contradictory.
    """
    if not base_url.startswith('ssh://'):
        for name in SSH_FIELDS:
            if opts.get(name) is not None:
                raise InvalidInputError(f'{field}.{name}', 'only for ssh:// engines (base_url: '
                                                           'ssh://user@host)')
        return {}
    for name in TLS_FIELDS:
        if opts.get(name) is not None:
            raise InvalidInputError(f'{field}.{name}', 'TLS settings do not apply to ssh:// '
                                                       'engines (SSH encrypts, and checks the '
                                                       'host by known_hosts)')
    verify = opts.get('ssh_verify_host_key') is not False
    if not opts.get('ssh_key'):
        raise InvalidInputError(f'{field}.ssh_key', 'an ssh:// engine needs the private key '
                                                    'text (e.g. {get_secret: NAME}); the keys '
                                                    'and agents of this host are never used')
    if verify and not opts.get('known_hosts'):
        raise InvalidInputError(f'{field}.known_hosts', "an ssh:// engine needs the host's key "
                                                        'line(s) (`ssh-keyscan -p PORT HOST`, '
                                                        'checked out of band), or '
                                                        'ssh_verify_host_key: false')
    if not verify and opts.get('known_hosts'):
        raise InvalidInputError(f'{field}.ssh_verify_host_key', 'false ignores known_hosts: '
                                                                'give one or the other')
    return {'ssh_key': opts['ssh_key'], 'ssh_key_passphrase': opts.get('ssh_key_passphrase'),
            'known_hosts': opts.get('known_hosts'), 'ssh_verify_host_key': verify,
            'ssh_timeout': float(opts.get('ssh_timeout') or min(timeout, CONNECT_TIMEOUT))}
