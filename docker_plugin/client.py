"""The one place a Docker client is built.

``resolve_config`` is a pure translation from the blueprint's ``daemon_client``
dict (plus ``DOCKER_*`` environment fallbacks) to a typed
``DaemonClientConfig``; ``open_client`` turns that into a live
``docker.DockerClient`` and cleans up after it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import threading
from typing import Any, Iterator, Mapping

import docker
import docker.tls

from docker_plugin.errors import InvalidInputError, engine_call

DEFAULT_BASE_URL = 'unix:///var/run/docker.sock'
DEFAULT_TIMEOUT = 60.0
FIELD = 'daemon_client'

_PEM_MARK = '-----BEGIN'
# Keys a user may give, with the aliases older blueprints used.
_ALIASES = {
    'docker_host': 'base_url',
    'url': 'base_url',
    'hostname': 'host',
    'api_version': 'version',
    'verify': 'tls_verify',
    'ca': 'ca_cert',
    'cert': 'client_cert',
    'key': 'client_key',
}
_KEYS = frozenset({
    'base_url', 'host', 'port', 'version', 'timeout', 'tls', 'tls_verify',
    'ca_cert', 'client_cert', 'client_key', 'max_pool_size', 'user_agent',
    'use_env',
})
_TLS_DICT_KEYS = frozenset({'ca_cert', 'client_cert', 'client_key', 'tls_verify'})


@dataclasses.dataclass(frozen=True)
class DaemonClientConfig:
    """Where and how to reach one Docker engine.

    ``ca_cert``, ``client_cert`` and ``client_key`` each hold a file path or PEM
    text; they are kept out of ``repr`` so a config can be logged safely.
    """

    base_url: str = DEFAULT_BASE_URL
    version: str = 'auto'
    timeout: float = DEFAULT_TIMEOUT
    tls: bool = False
    tls_verify: bool = True
    ca_cert: str | None = dataclasses.field(default=None, repr=False)
    client_cert: str | None = dataclasses.field(default=None, repr=False)
    client_key: str | None = dataclasses.field(default=None, repr=False)
    max_pool_size: int = 10
    user_agent: str | None = None

    def describe(self) -> str:
        """A one-line, secret-free description for logs."""
        mode = 'plain'
        if self.tls:
            mode = 'TLS, verified' if self.tls_verify else 'TLS, unverified'
            if self.client_cert:
                mode += ', client certificate'
        return f'{self.base_url} ({mode}, API {self.version})'


def _normalise_keys(raw: Mapping[str, Any], field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _ALIASES.get(key, key)
        if name not in _KEYS:
            raise InvalidInputError(
                f'{field}.{key}', f'unknown option; known options: {", ".join(sorted(_KEYS))}')
        out[name] = value
    return out


def _expect(value: Any, types: tuple[type, ...], field: str, what: str) -> Any:
    if isinstance(value, bool) and bool not in types:
        raise InvalidInputError(field, f'expected {what}, got a boolean')
    if not isinstance(value, types):
        raise InvalidInputError(field, f'expected {what}, got {type(value).__name__}')
    return value


def resolve_config(raw: Mapping[str, Any] | None,
                   environ: Mapping[str, str] | None = None) -> DaemonClientConfig:
    """Translate a ``daemon_client`` dict into a DaemonClientConfig.

    Args:
        raw: the blueprint's dict; ``None`` or ``{}`` means the local engine.
        environ: where ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``,
            ``DOCKER_CERT_PATH`` and ``DOCKER_API_VERSION`` are read when the
            dict does not say (defaults to ``os.environ``; ``use_env: false``
            turns this off).

    Raises:
        InvalidInputError: naming the field that is wrong.
    """
    if raw is None:
        raw = {}
    _expect(raw, (dict,), FIELD, 'a dictionary')
    opts = _normalise_keys(raw, FIELD)
    tls_value = opts.get('tls')
    if isinstance(tls_value, dict):
        for key, value in _normalise_keys(tls_value, f'{FIELD}.tls').items():
            if key not in _TLS_DICT_KEYS:
                raise InvalidInputError(f'{FIELD}.tls.{key}', 'not a TLS setting')
            opts.setdefault(key, value)
        opts['tls'] = True
    use_env = _expect(opts.get('use_env', True), (bool,), f'{FIELD}.use_env', 'true or false')
    env = dict(os.environ if environ is None else environ) if use_env else {}

    base_url = opts.get('base_url')
    if base_url is not None:
        _expect(base_url, (str,), f'{FIELD}.base_url', 'a URL string')
    if 'host' in opts:
        if base_url:
            raise InvalidInputError(f'{FIELD}.host', 'give either base_url or host/port, not both')
        host = _expect(opts['host'], (str,), f'{FIELD}.host', 'a host name or address')
        port = opts.get('port', 2376 if opts.get('tls') else 2375)
        port = _expect(port, (int, str), f'{FIELD}.port', 'a port number')
        if not str(port).isdigit() or not 0 < int(port) < 65536:
            raise InvalidInputError(f'{FIELD}.port', f'not a TCP port: {port!r}')
        base_url = f'tcp://{host}:{port}'
    elif 'port' in opts:
        raise InvalidInputError(f'{FIELD}.port', 'needs host as well')
    from_env = base_url is None and bool(env.get('DOCKER_HOST'))
    if base_url is None:
        base_url = env.get('DOCKER_HOST') or DEFAULT_BASE_URL
    if not base_url.startswith(('unix://', 'tcp://', 'http://', 'https://', 'ssh://',
                                'npipe://')):
        raise InvalidInputError(f'{FIELD}.base_url',
                                f'unsupported URL {base_url!r}: use unix://, tcp:// or https://')

    version = opts.get('version', env.get('DOCKER_API_VERSION') or 'auto')
    version = str(_expect(version, (str, float, int), f'{FIELD}.version',
                          "'auto' or an API version like '1.41'"))
    if version != 'auto' and not _is_api_version(version):
        raise InvalidInputError(f'{FIELD}.version',
                                f"expected 'auto' or like '1.41', got {version!r}")

    timeout = _expect(opts.get('timeout', DEFAULT_TIMEOUT), (int, float), f'{FIELD}.timeout',
                      'a number of seconds')
    if timeout <= 0:
        raise InvalidInputError(f'{FIELD}.timeout', 'must be greater than zero')

    ca_cert = _optional_str(opts, 'ca_cert')
    client_cert = _optional_str(opts, 'client_cert')
    client_key = _optional_str(opts, 'client_key')
    tls_verify = opts.get('tls_verify')
    if tls_verify is not None:
        _expect(tls_verify, (bool,), f'{FIELD}.tls_verify', 'true or false')
    tls = opts.get('tls')
    if tls is not None:
        _expect(tls, (bool,), f'{FIELD}.tls', 'true, false or a dictionary')

    if from_env and not any((ca_cert, client_cert, client_key)) and tls is None:
        env_verify = env.get('DOCKER_TLS_VERIFY', '') not in ('', '0')
        cert_path = env.get('DOCKER_CERT_PATH')
        if env_verify or cert_path:
            tls = True
            tls_verify = env_verify if tls_verify is None else tls_verify
            if cert_path:
                ca_cert = os.path.join(cert_path, 'ca.pem')
                client_cert = os.path.join(cert_path, 'cert.pem')
                client_key = os.path.join(cert_path, 'key.pem')
    if tls is None:
        tls = bool(ca_cert or client_cert or client_key or tls_verify)
    if tls_verify is None:
        tls_verify = True
    if bool(client_cert) != bool(client_key):
        missing = 'client_key' if client_cert else 'client_cert'
        raise InvalidInputError(f'{FIELD}.{missing}',
                                'a client certificate needs both client_cert and client_key')
    if tls and base_url.startswith('unix://'):
        raise InvalidInputError(f'{FIELD}.tls', 'TLS needs a tcp:// or https:// base_url')

    pool = _expect(opts.get('max_pool_size', 10), (int,), f'{FIELD}.max_pool_size', 'an integer')
    user_agent = _optional_str(opts, 'user_agent')
    return DaemonClientConfig(
        base_url=base_url, version=version, timeout=float(timeout), tls=bool(tls),
        tls_verify=bool(tls_verify), ca_cert=ca_cert, client_cert=client_cert,
        client_key=client_key, max_pool_size=pool, user_agent=user_agent)


def _optional_str(opts: Mapping[str, Any], key: str) -> str | None:
    value = opts.get(key)
    if value in (None, ''):
        return None
    return _expect(value, (str,), f'{FIELD}.{key}', 'a file path or PEM text')


def _is_api_version(text: str) -> bool:
    major, _, minor = text.partition('.')
    return major.isdigit() and minor.isdigit()


def _materialise(value: str | None, name: str, workdir: list[str]) -> str | None:
    """Return a file path for a path-or-PEM value, writing PEM text to a 0600 file."""
    if value is None:
        return None
    if value.lstrip().startswith(_PEM_MARK):
        if not workdir:
            workdir.append(tempfile.mkdtemp(prefix='docker-plugin-tls-'))
        path = os.path.join(workdir[0], name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as handle:
            handle.write(value if value.endswith('\n') else value + '\n')
        return path
    if not os.path.isfile(value):
        # Never echo the value: a mistyped PEM could be a key.
        raise InvalidInputError(f'{FIELD}.{name}',
                                'is neither PEM text nor the path of a readable file')
    return value


def client_kwargs(config: DaemonClientConfig, workdir: list[str]) -> dict[str, Any]:
    """Keyword arguments for ``docker.DockerClient`` (PEM text becomes temp files)."""
    kwargs: dict[str, Any] = {
        'base_url': config.base_url,
        'version': _cached_version(config),
        'timeout': config.timeout,
        'max_pool_size': config.max_pool_size,
    }
    if config.user_agent:
        kwargs['user_agent'] = config.user_agent
    if config.tls:
        ca = _materialise(config.ca_cert, 'ca_cert', workdir)
        cert = _materialise(config.client_cert, 'client_cert', workdir)
        key = _materialise(config.client_key, 'client_key', workdir)
        verify: bool | str = (ca or True) if config.tls_verify else False
        try:
            kwargs['tls'] = docker.tls.TLSConfig(
                client_cert=(cert, key) if cert else None, ca_cert=ca, verify=verify)
        except docker.errors.TLSParameterError as exc:
            raise InvalidInputError(FIELD, str(exc)) from None
    return kwargs


# API versions negotiated per engine URL. In local runs every operation shares
# one process, so this saves one /version round trip per operation; on a
# manager each operation is a fresh process and negotiates once.
_VERSIONS: dict[str, str] = {}
_VERSIONS_LOCK = threading.Lock()


def _cached_version(config: DaemonClientConfig) -> str:
    if config.version != 'auto':
        return config.version
    with _VERSIONS_LOCK:
        return _VERSIONS.get(config.base_url, 'auto')


def _pin_tls_verification(api: docker.APIClient) -> None:
    """Make the engine's CA (or verify off) win over REQUESTS_CA_BUNDLE.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` replace a
    session's own CA file, so a host that sets them (as many do) would check
    the engine against the system bundle and fail. Proxy settings from the
    environment still apply.
    """
    merge = api.merge_environment_settings

    def merge_pinned(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        settings = merge(url, proxies, stream, verify, cert)
        settings['verify'] = api.verify
        return settings

    api.merge_environment_settings = merge_pinned  # type: ignore[method-assign]


@contextlib.contextmanager
def open_client(config: DaemonClientConfig) -> Iterator[docker.DockerClient]:
    """A connected DockerClient for the duration of the block.

    Raises:
        InvalidInputError: bad TLS material.
        TransientError: the engine does not answer.
    """
    workdir: list[str] = []
    client = None
    try:
        kwargs = client_kwargs(config, workdir)
        with engine_call(f'connect to Docker engine at {config.base_url}'):
            if config.tls:
                # Negotiate the version only once the CA is pinned (below).
                client = docker.DockerClient(**{**kwargs, 'version': '1.24'})
                _pin_tls_verification(client.api)
                if kwargs['version'] == 'auto':
                    client.api._version = client.api._retrieve_server_version()
            else:
                client = docker.DockerClient(**kwargs)
        if config.version == 'auto':
            with _VERSIONS_LOCK:
                _VERSIONS.setdefault(config.base_url, client.api.api_version)
        yield client
    finally:
        if client is not None:
            client.close()
        if workdir:
            shutil.rmtree(workdir[0], ignore_errors=True)
