"""The ``daemon_client`` dict: how to reach one Docker engine, declared once.

``docker_plugin.client.resolve_config`` turns a validated dict (plus the
``DOCKER_*`` environment fallbacks) into a ``DaemonClientConfig``.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable
from docker_plugin.options.checks import (
    FLAG,
    AnyOf,
    Custom,
    Integer,
    Number,
    Record,
    Text,
    ascii_int,
    kind,
)
from docker_plugin.options.ssh import known_hosts, private_key, ssh_url

SCHEMES = ('unix://', 'tcp://', 'http://', 'https://', 'ssh://')
PEM_OR_PATH = Text(non_empty=True, what='a file path or PEM text')


def _url(value: str, path: str) -> str:
    if not value.startswith(SCHEMES) or len(value) <= len(value.split('//')[0]) + 2:
        raise InvalidInputError(path, f'unsupported URL {value[:80]!r}: use unix://, tcp://, '
                                      'https:// or ssh://')
    if value.startswith('ssh://'):
        return ssh_url(value, path)
    rest = value.split('//', 1)[1]
    if not value.startswith('unix://'):
        host, _, port = rest.rstrip('/').rpartition(':')
        if port and (not host or ascii_int(port) is None or not 0 < int(port) < 65536):
            raise InvalidInputError(path, f'not a valid port in {value[:80]!r}')
    return value


def _port(value: Any, path: str) -> int:
    number = ascii_int(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 65536:
        raise InvalidInputError(path, f'expected a TCP port from 1 to 65535, got {kind(value)}'
                                if not isinstance(value, (int, str)) else
                                f'expected a TCP port from 1 to 65535, got {str(value)[:20]!r}')
    return number


def _version(value: Any, path: str) -> str:
    text = f'{value:.2f}' if isinstance(value, float) else str(value)
    major, _, minor = text.partition('.')
    if text != 'auto' and (ascii_int(major) is None or ascii_int(minor) is None):
        raise InvalidInputError(path, f"expected 'auto' or an API version like '1.41', got "
                                      f'{text[:20]!r}')
    return text


TLS_RECORD = Record({'ca_cert': PEM_OR_PATH, 'client_cert': PEM_OR_PATH,
                     'client_key': PEM_OR_PATH, 'tls_verify': FLAG},
                    aliases={'ca': 'ca_cert', 'cert': 'client_cert', 'key': 'client_key',
                             'verify': 'tls_verify'},
                    secret=('client_key',))

DAEMON_CLIENT = OptionTable('daemon_client', [
    Option('base_url', Custom((str,), _url, 'a unix://, tcp://, https:// or ssh:// URL'),
           'client', doc='unix://, tcp://, https:// or ssh://user@host[:port] URL of the engine'),
    Option('host', Text(pattern=r'[A-Za-z0-9._:\[\]-]{1,255}', what='a host name or address'),
           'client', doc='engine host name or address (instead of base_url)'),
    Option('port', Custom((int, str), _port, 'a TCP port'), 'client',
           doc='engine TCP port (2376 with TLS, 2375 without)'),
    Option('version', Custom((str, int, float), _version, "'auto' or a version like '1.41'"),
           'client', doc="API version, or 'auto' (the default)"),
    Option('timeout', Number(0, 10 ** 6, above=True, what='seconds'), 'client',
           doc='seconds a call may wait for the engine (default 60)'),
    Option('tls', AnyOf(FLAG, TLS_RECORD), 'client',
           doc='use TLS (implied by any certificate setting), or a dict of the TLS keys'),
    Option('tls_verify', FLAG, 'client', doc="verify the engine's certificate (default true)"),
    Option('ca_cert', PEM_OR_PATH, 'client', secret=True, doc='CA certificate, path or PEM text'),
    Option('client_cert', PEM_OR_PATH, 'client', secret=True,
           doc='client certificate, path or PEM text'),
    Option('client_key', PEM_OR_PATH, 'client', secret=True,
           doc='client key, path or PEM text (secret)'),
    Option('unreachable_timeout', Number(0, 3600, what='seconds'), 'client',
           doc='seconds an operation keeps retrying an engine that does not answer at all '
               '(connection refused, no such socket, a name that does not resolve), from '
               'the first failure; then it fails naming base_url or host (default 30; 0: '
               'fail at once)'),
    Option('max_pool_size', Integer(1, 1000), 'client', doc='connections kept per engine'),
    Option('user_agent', Text(max_len=1024), 'client', doc='HTTP user agent'),
    Option('ssh_key', Custom((str,), private_key, "an SSH private key's text"), 'client',
           secret=True, doc='ssh://: the private key, PEM or OpenSSH text (e.g. from '
                            'get_secret); never logged or stored'),
    Option('ssh_key_passphrase', Text(non_empty=True, max_len=4096), 'client', secret=True,
           doc='ssh://: the passphrase of an encrypted ssh_key (secret)'),
    Option('known_hosts', Custom((str, list), known_hosts, 'known_hosts lines'), 'client',
           doc="ssh://: the host's key line(s) as ssh-keyscan prints them, checked out of "
               'band; required unless ssh_verify_host_key is false'),
    Option('ssh_verify_host_key', FLAG, 'client',
           doc='ssh://: refuse a host whose key known_hosts does not hold (default true)'),
    Option('ssh_timeout', Number(0, 3600, above=True, what='seconds'), 'client',
           doc='ssh://: seconds to connect, check the host key and log in (default: '
               'timeout, at most 15)'),
    Option('use_env', FLAG, 'client',
           doc='read DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH when unset (default true)'),
], aliases={'docker_host': 'base_url', 'url': 'base_url', 'hostname': 'host',
            'api_version': 'version', 'verify': 'tls_verify', 'ca': 'ca_cert',
            'cert': 'client_cert', 'key': 'client_key'})
