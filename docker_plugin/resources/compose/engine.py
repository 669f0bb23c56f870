"""Point the compose binary at the operation's engine, TLS included, leaking nothing.

Compose reads the engine from ``DOCKER_HOST``, ``DOCKER_TLS_VERIFY`` /
``DOCKER_TLS``, ``DOCKER_CERT_PATH`` (a directory holding ``ca.pem``,
``cert.pem``, ``key.pem``) and ``DOCKER_API_VERSION``. PEM text from the
blueprint is put in anonymous in-memory files (``docker_plugin.pem``); the
certificate directory holds only **symbolic links** to them
(``/proc/self/fd/N``, which the child inherits), or to the files given as
paths, so no key material is written to any file system, and the directory
is removed when the block ends. The child gets a small, explicit
environment: never the worker's own ``DOCKER_*`` or secrets.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Callable, Iterator, Mapping

from docker_plugin import records
from docker_plugin.client import DaemonClientConfig, _material
from docker_plugin.errors import InvalidInputError
from docker_plugin.pem import pem_paths

# From the worker's environment, only what a Go program needs to run and find
# the docker CLI configuration (registry credentials, proxies).
PASSED = ('PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'DOCKER_CONFIG', 'HTTP_PROXY',
          'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy')
CERT_FILES = (('ca_cert', 'ca.pem'), ('client_cert', 'cert.pem'), ('client_key', 'key.pem'))


@records.record
class EngineEnv:
    environ: dict[str, str]
    path_for: Callable[[str, str], str]  # more in-memory files, alive for the same block
    # Why the engine does not answer a ping now (None: it answers); see ``silence``.
    silence: Callable[[], str | None] = lambda: None

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """The in-memory files made so far, for the child to inherit."""
        return tuple(getattr(self.path_for, 'descriptors', ()))


@contextlib.contextmanager
def engine_environment(config: DaemonClientConfig,
                       base: Mapping[str, str] | None = None) -> Iterator[EngineEnv]:
    """The child environment (and inherited descriptors) for one block.

    Raises:
        InvalidInputError: an ssh:// engine (compose would reach it with this
            host's own ``ssh`` set-up, not with daemon_client's key and host keys).
    """
    if config.ssh:
        raise InvalidInputError('daemon_client.base_url', 'ComposeProject cannot use ssh:// '
                                                          'engines (compose would log in with '
                                                          "this host's own SSH keys and "
                                                          'known_hosts): use tcp:// with TLS')
    base = os.environ if base is None else base
    environ = {k: base[k] for k in PASSED if base.get(k)}
    own_config = None
    if not config.host_credentials:  # an empty configuration: no logins, helpers, proxies
        own_config = tempfile.mkdtemp(prefix='docker-plugin-config-')
        os.chmod(own_config, 0o700)
        environ['DOCKER_CONFIG'] = own_config
    environ.setdefault('PATH', '/usr/local/bin:/usr/bin:/bin')
    environ['DOCKER_HOST'] = config.base_url.replace('https://', 'tcp://', 1)
    if config.version != 'auto':
        environ['DOCKER_API_VERSION'] = config.version
    directory = None
    with pem_paths() as path_for:
        try:
            if config.tls:
                directory = tempfile.mkdtemp(prefix='docker-plugin-certs-')
                os.chmod(directory, 0o700)
                for field, name in CERT_FILES:
                    value = getattr(config, field)
                    path = _material(value, field, path_for) if value else None
                    if path:
                        target = path if path.startswith('/proc/') else os.path.abspath(path)
                        os.symlink(target, os.path.join(directory, name))
                environ['DOCKER_CERT_PATH'] = directory
                environ['DOCKER_TLS' if not config.tls_verify else 'DOCKER_TLS_VERIFY'] = '1'
            yield EngineEnv(environ, path_for, lambda: silence(config))
        finally:
            for made in (directory, own_config):
                if made:
                    shutil.rmtree(made, ignore_errors=True)


def silence(config: DaemonClientConfig) -> str | None:
    """Why the engine does not answer a ping within ``daemon_client.timeout``; None when
    it answers (even with an error: then it is there). A compose command that ran past
    its deadline while the engine was silent met passing trouble, not a slow project."""
    from docker_plugin.client import open_client
    from docker_plugin.errors import PluginError, TransientError, engine_call
    try:
        with open_client(config) as client, engine_call('ping the engine'):
            client.api.ping()
    except TransientError as exc:
        return str(exc)
    except PluginError:
        return None
    return None
