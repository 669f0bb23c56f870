"""The one place a Docker client is built.

``resolve_config`` is a pure translation from the blueprint's ``daemon_client``
dict (validated by ``options.daemon.DAEMON_CLIENT``, plus ``DOCKER_*``
environment fallbacks) to a typed ``DaemonClientConfig``; ``open_client``
turns that into a live ``docker.DockerClient`` for one block and cleans up
after it. On a manager each operation is a process of its own. Locally (a
local workflow's threads, ``cfy`` local) a client of a unix socket is kept for
the next block with the same configuration in the same process (``Kept``):
only its connection and what the SDK read when it was made (this host user's
Docker configuration) carry over, for at most ``KEEP_FOR`` seconds; the API
version is negotiated again at every block that asks for ``auto``.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import urllib.parse
from typing import Any, Callable, Iterator, Mapping

from docker_plugin import deferred, records
from docker_plugin.errors import InvalidInputError, engine_call
from docker_plugin.options.base import api_tuple
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.ssh import ssh_settings
from docker_plugin.pem import is_pem, pem_paths

DEFAULT_BASE_URL = 'unix:///var/run/docker.sock'
DEFAULT_TIMEOUT = 60.0
DEFAULT_UNREACHABLE_TIMEOUT = 30.0
MIN_API = '1.24'
FIELD = 'daemon_client'
# What resolve_config reads from the environment (unless use_env is false).
ENVIRONMENT = ('DOCKER_HOST', 'DOCKER_API_VERSION', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH')

# ``import docker`` would run paramiko (its SSH transport's) for every engine;
# only ssh:// engines use it (docker_plugin.deferred).
deferred.defer('paramiko')


@records.record(frozen=True)
class DaemonClientConfig:
    """Where and how to reach one Docker engine.

    ``ca_cert``, ``client_cert`` and ``client_key`` each hold a file path or PEM
    text; ``ssh_key`` (and its passphrase) the key's text, for ``ssh://`` engines;
    they are kept out of ``repr`` so a config can be logged safely.
    """

    base_url: str = DEFAULT_BASE_URL
    version: str = 'auto'
    timeout: float = DEFAULT_TIMEOUT
    tls: bool = False
    tls_verify: bool = True
    ca_cert: str | None = records.field(default=None, repr=False)
    client_cert: str | None = records.field(default=None, repr=False)
    client_key: str | None = records.field(default=None, repr=False)
    max_pool_size: int = 10
    user_agent: str | None = None
    ssh_key: str | None = records.field(default=None, repr=False)
    ssh_key_passphrase: str | None = records.field(default=None, repr=False)
    known_hosts: str | None = records.field(default=None, repr=False)
    ssh_verify_host_key: bool = True
    ssh_timeout: float = 15.0
    # Seconds to keep retrying an engine that does not answer at all, from the first failure.
    unreachable_timeout: float = DEFAULT_UNREACHABLE_TIMEOUT
    # The field that holds the address (base_url, or host and port), and, when it was not
    # set, where the address came from instead: what a failure to reach it names.
    address_field: str = f'{FIELD}.base_url'
    address_note: str = ''
    # Whether the client may use what this host's user configured for Docker: registry
    # logins and credential helpers, proxies (~/.docker/config.json). Not on a manager,
    # where that user is the manager's and every tenant's blueprint runs.
    host_credentials: bool = True

    @property
    def ssh(self) -> bool:
        return self.base_url.startswith('ssh://')

    @property
    def warning(self) -> str | None:
        """What a user must be told each time this engine is used, if anything."""
        if self.ssh and not self.ssh_verify_host_key:
            return (f'daemon_client.ssh_verify_host_key is false: the host key of '
                    f'{self.host} is not checked, so whoever stands in between can read and '
                    'change everything sent to the engine')
        return None

    def describe(self) -> str:
        """A one-line, secret-free description for logs."""
        mode = 'plain'
        if self.ssh:
            mode = 'SSH, host key checked' if self.ssh_verify_host_key else \
                'SSH, host key NOT checked'
        if self.tls:
            mode = 'TLS, verified' if self.tls_verify else 'TLS, unverified'
            if self.client_cert:
                mode += ', client certificate'
        return f'{self.base_url} ({mode}, API {self.version})'

    @property
    def host(self) -> str | None:
        """The engine's host name or address (None for a unix socket)."""
        if self.base_url.startswith('unix://'):
            return None
        return urllib.parse.urlsplit(self.base_url.replace('tcp://', 'http://', 1)).hostname


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
    opts = DAEMON_CLIENT.parse(raw, FIELD)
    if isinstance(opts['tls'], dict):
        for key, value in opts['tls'].items():
            if opts.get(key) is None:
                opts[key] = value
        opts['tls'] = True
    use_env = opts['use_env'] is not False
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in ENVIRONMENT if name in source} if use_env else {}
    certificates = any(opts[k] for k in ('ca_cert', 'client_cert', 'client_key'))
    tls = opts['tls']
    base_url = opts['base_url']
    if opts['host'] is not None:
        if base_url:
            raise InvalidInputError(f'{FIELD}.host', 'give either base_url or host/port, not both')
        secure = tls is True or (tls is None and (certificates or bool(opts['tls_verify'])))
        port = opts['port'] or (2376 if secure else 2375)
        host = opts['host']
        base_url = f'tcp://[{host}]:{port}' if ':' in host.strip('[]') else \
            f'tcp://{host.strip("[]")}:{port}'
    elif opts['port'] is not None:
        raise InvalidInputError(f'{FIELD}.port', 'needs host as well')
    from_env = base_url is None and bool(env.get('DOCKER_HOST'))
    address_field = f'{FIELD}.host' if opts['host'] is not None else f'{FIELD}.base_url'
    address_note = '' if base_url is not None else \
        ' (not set: DOCKER_HOST gave it)' if from_env else ' (not set: the default)'
    if base_url is None:
        base_url = env.get('DOCKER_HOST') or DEFAULT_BASE_URL
        if from_env:
            base_url = DAEMON_CLIENT.options['base_url'].check(base_url, 'DOCKER_HOST')

    version = opts['version'] or env.get('DOCKER_API_VERSION') or 'auto'
    version = DAEMON_CLIENT.options['version'].check(version, f'{FIELD}.version')
    if version != 'auto' and api_tuple(version) < api_tuple(MIN_API):
        raise InvalidInputError(f'{FIELD}.version', f'the docker SDK needs API {MIN_API} or '
                                                    f'newer, got {version}')
    ca_cert, client_cert, client_key = opts['ca_cert'], opts['client_cert'], opts['client_key']
    tls_verify = opts['tls_verify']
    timeout = float(opts['timeout'] or DEFAULT_TIMEOUT)
    ssh = ssh_settings(opts, base_url, timeout, FIELD)
    if from_env and not certificates and tls is None and not ssh:
        env_verify = env.get('DOCKER_TLS_VERIFY', '') not in ('', '0')
        cert_path = env.get('DOCKER_CERT_PATH')
        if env_verify or cert_path:
            tls = True
            tls_verify = env_verify if tls_verify is None else tls_verify
            if cert_path:
                ca_cert, client_cert, client_key = (os.path.join(cert_path, name) for name in
                                                    ('ca.pem', 'cert.pem', 'key.pem'))
    if tls is None:
        tls = bool(ca_cert or client_cert or client_key or tls_verify)
    if bool(client_cert) != bool(client_key):
        missing = 'client_key' if client_cert else 'client_cert'
        raise InvalidInputError(f'{FIELD}.{missing}',
                                'a client certificate needs both client_cert and client_key')
    if tls and base_url.startswith('unix://'):
        raise InvalidInputError(f'{FIELD}.tls', 'TLS needs a tcp:// or https:// base_url')
    return DaemonClientConfig(
        base_url=base_url, version=version, timeout=timeout,
        tls=bool(tls), tls_verify=tls_verify is not False, ca_cert=ca_cert,
        client_cert=client_cert, client_key=client_key,
        max_pool_size=opts['max_pool_size'] or 10, user_agent=opts['user_agent'],
        unreachable_timeout=DEFAULT_UNREACHABLE_TIMEOUT if opts['unreachable_timeout'] is None
        else float(opts['unreachable_timeout']),
        address_field=address_field, address_note=address_note, **ssh)


def _material(value: str | None, name: str, path_for: Callable[[str, str], str]) -> str | None:
    """A file path for a path-or-PEM value."""
    if value is None:
        return None
    if is_pem(value):
        return path_for(value, name)
    if not os.path.isfile(value):
        # Never echo the value: a mistyped PEM could be a key.
        raise InvalidInputError(f'{FIELD}.{name}',
                                'is neither PEM text nor the path of a readable file')
    return value


def client_kwargs(config: DaemonClientConfig,
                  path_for: Callable[[str, str], str]) -> dict[str, Any]:
    """Keyword arguments for ``docker.DockerClient`` (PEM text becomes in-memory files)."""
    import docker.tls
    kwargs: dict[str, Any] = {'base_url': config.base_url, 'version': config.version,
                              'timeout': config.timeout, 'max_pool_size': config.max_pool_size}
    if config.user_agent:
        kwargs['user_agent'] = config.user_agent
    if config.ssh:
        # docker-py's own SSH adapter then builds nothing (no connection, no ssh
        # process) until a request is made; open_client replaces it first.
        kwargs['use_ssh_client'] = True
    if config.tls:
        ca = _material(config.ca_cert, 'ca_cert', path_for)
        cert = _material(config.client_cert, 'client_cert', path_for)
        key = _material(config.client_key, 'client_key', path_for)
        verify: bool | str = (ca or True) if config.tls_verify else False
        try:
            kwargs['tls'] = docker.tls.TLSConfig(
                client_cert=(cert, key) if cert else None, ca_cert=ca, verify=verify)
        except docker.errors.TLSParameterError as exc:
            raise InvalidInputError(FIELD, str(exc)) from None
    return kwargs


def _pin_tls_verification(api: Any) -> None:
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

    api.merge_environment_settings = merge_pinned


def forget_host_configuration(api: Any) -> None:
    """Make a client forget what the SDK read from this host user's Docker configuration
    (``~/.docker/config.json``): registry logins, credential helpers and proxies. A pull
    or push then has only the credentials the blueprint gives."""
    from docker.auth import AuthConfig
    from docker.utils.proxy import ProxyConfig
    api._general_configs = {}
    api._proxy_configs = ProxyConfig()
    api._auth_configs = AuthConfig({})
    api.credstore_env = None


# ------------------------------------------------------------------ kept clients
# What a client is made from: the API version is set at every block, and the rest only
# words errors and retries.
_CLIENT_FIELDS = tuple(field.name for field in records.fields(DaemonClientConfig) if field.name
                       not in ('version', 'address_field', 'address_note', 'unreachable_timeout'))
KEEP_FOR = 60.0  # seconds a kept client is used again, from when it was made
KEEP_IDLE = 16   # idle clients kept per configuration
# Calls whose connection the SDK takes over as a raw stream (exec start, attach): each
# keeps a pool of its own, as the SDK keeps one per URL, so it is never handed out again.
TAKEN_OVER = re.compile(r'/(exec/[^/]+/start|containers/[^/]+/attach)\b')
LOCAL_URL = 'http+docker://localhost'


class Kept:
    """Clients of unix-socket engines that ended their block cleanly, for the next
    block with the same configuration in this process.

    Building a client reads (stats) this host user's Docker configuration files and
    opens a socket: a handful of system calls, each of which hands the GIL back, and in
    a local workflow's busy thread pool waits to get it again, costing a few ms per
    operation. A kept client is used by one block at a time, is dropped (not reused)
    after a failure, and never outlives ``KEEP_FOR``; after a fork the parent's
    clients are left to the parent. TLS and SSH engines are never kept: their key
    material is only on disk for the length of a block."""

    lock = threading.Lock()
    pid = os.getpid()
    idle: dict[tuple, list[tuple[float, Any]]] = {}

    @staticmethod
    def key(config: DaemonClientConfig) -> tuple:
        """What ``idle`` is keyed by: the values a client is made from (made before the
        lock is taken, and hashed in C, so that the lock is held for a dict look-up only)."""
        return tuple(getattr(config, name) for name in _CLIENT_FIELDS)

    @classmethod
    def take(cls, key: tuple) -> tuple[float, Any] | None:
        """A kept client of the configuration ``key`` and when it was made, or None."""
        pid, now = os.getpid(), time.monotonic()
        stale = []
        with cls.lock:
            if cls.pid != pid:
                cls.pid, cls.idle = pid, {}
            clients = cls.idle.get(key) or []
            while clients and now - clients[-1][0] >= KEEP_FOR:
                stale.append(clients.pop())
            taken = clients.pop() if clients else None
        for _, client in stale:
            client.close()
        return taken

    @classmethod
    def give_back(cls, key: tuple, made: float, client: Any) -> None:
        """Keep ``client`` for the next block (or close it: too old, too many)."""
        pid, fresh = os.getpid(), time.monotonic() - made < KEEP_FOR
        with cls.lock:
            clients = cls.idle.setdefault(key, [])
            if fresh and cls.pid == pid and len(clients) < KEEP_IDLE:
                clients.append((made, client))
                return
        client.close()

    @classmethod
    def close_all(cls) -> None:
        """Close every idle client (tests start from none)."""
        with cls.lock:
            idle, cls.idle = cls.idle, {}
        for clients in idle.values():
            for _, client in clients:
                client.close()


def share_connections(api: Any) -> None:
    """One connection pool for every call to a unix socket.

    The SDK's unix adapter keeps a pool per URL, so every call about another
    container, image or query opens a connection of its own; here they share one
    pool, but for the calls whose connection the SDK takes over (``TAKEN_OVER``)."""
    adapter = api.get_adapter(LOCAL_URL)
    per_url = adapter.get_connection

    def get_connection(url: str, proxies: Any = None) -> Any:
        return per_url(url if TAKEN_OVER.search(url) else LOCAL_URL, proxies)

    adapter.get_connection = get_connection


def _build(config: DaemonClientConfig, kwargs: Mapping[str, Any]) -> Any:
    """A new client of ``config`` (inside an ``engine_call``), at the minimum API
    version, so that nothing is sent before TLS verification is pinned."""
    import docker
    client = docker.DockerClient(**{**kwargs, 'version': MIN_API})
    if config.tls:
        _pin_tls_verification(client.api)
    if config.ssh:
        from docker_plugin.ssh_transport import attach
        attach(client.api, config)
    if not config.host_credentials:
        forget_host_configuration(client.api)
    if config.base_url.startswith('unix://'):
        # No proxy, netrc login or CA bundle of the environment applies to a local
        # socket; requests would look for each at every call.
        client.api.trust_env = False
        share_connections(client.api)
    return client


@contextlib.contextmanager
def open_client(config: DaemonClientConfig) -> Iterator[Any]:
    """A connected ``docker.DockerClient`` for the duration of the block.

    The API version is the one asked for, or (``auto``) the engine's own,
    negotiated once for this block, after TLS verification is pinned. A unix
    socket's client may be one an earlier block left (``Kept``), and is left for the
    next one when the block ends without an exception.

    Raises:
        InvalidInputError: bad TLS or SSH material, an SSH host key or key refused.
        TransientError: the engine does not answer.
    """
    key = Kept.key(config) if config.base_url.startswith('unix://') else None
    made, client = (Kept.take(key) if key else None) or (time.monotonic(), None)
    clean = False
    action = f'connect to Docker engine at {config.base_url}'
    with pem_paths() as path_for:
        try:
            if client is None:
                kwargs = client_kwargs(config, path_for)  # bad key material: refused here
                with engine_call(action):
                    client = _build(config, kwargs)
            with engine_call(action):
                client.api._version = (client.api._retrieve_server_version()
                                       if config.version == 'auto' else config.version)
            yield client
            clean = True
        finally:
            if client is not None:
                if key and clean:
                    Kept.give_back(key, made, client)
                else:
                    client.close()
