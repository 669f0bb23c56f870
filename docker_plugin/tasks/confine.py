"""The confinement policy (``docker_plugin.confinement``) applied to one operation.

Its mode, from what cloudify-common 7.0.5 gives:

* ``MANAGER`` whenever the process runs under a Cloudify worker. The
  management worker's service sets ``MGMTWORKER_HOME`` (which
  ``cloudify.utils.is_management_environment`` reads) and ``AGENT_WORK_DIR``
  (which ``ManagerEndpoint.get_workdir`` reads), an agent's sets
  ``AGENT_WORK_DIR``, and the worker hands its environment to every
  operation's ``python -m cloudify.dispatch`` process. Blueprints do not
  set a worker's environment.
* ``LOCAL`` only for an operation of an in-process local workflow (``cfy``
  local, ``init_env``): its context says ``local`` and its endpoint is a
  ``cloudify.endpoint.LocalEndpoint`` holding the local storage, a Python
  object no context dispatched as JSON carries; and for a
  ``cloudify.mocks.MockCloudifyContext``, which only test code makes.
* ``MANAGER`` otherwise (a ``ManagerEndpoint``, a context of another kind):
  what is not known to be local is confined.

Its roots: the blueprint's directory (a local run's storage holds it; on a
manager files are fetched from the manager by path, after the policy
cleaned the path) and the deployment's work directory
(``<storage>/deployments/<id>/workdir/docker-plugin`` in a ``cfy`` run,
``$AGENT_WORK_DIR/deployments/<tenant>/<deployment>/docker-plugin`` under a
worker). Its settings: ``docker_plugin.operator_settings``.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Callable, Mapping

from docker_plugin import records
from docker_plugin.client import DaemonClientConfig, resolve_config
from docker_plugin.confinement import HostFacts, Mode, Policy
from docker_plugin.errors import InvalidInputError
from docker_plugin.operator_settings import load_settings
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.pem import is_pem
from docker_plugin.tasks.ctx import Ctx, Side

WORKER_MARKERS = ('MGMTWORKER_HOME', 'AGENT_WORK_DIR')
WORKDIR_NAME = 'docker-plugin'
TLS_FILES = ('ca_cert', 'client_cert', 'client_key')
TLS_HINT = ('on a Cloudify manager give the PEM text (e.g. {get_secret: docker_ca}), or a file '
            'inside the blueprint, relative to it')


# ------------------------------------------------------------------ the run
def run_mode(ctx: Ctx, environ: Mapping[str, str] | None = None) -> Mode:
    """LOCAL or MANAGER for the operation whose context is ``ctx`` (see the module)."""
    from cloudify.endpoint import LocalEndpoint
    from cloudify.mocks import MockCloudifyContext
    environ = os.environ if environ is None else environ
    if any(environ.get(name) for name in WORKER_MARKERS):
        return Mode.MANAGER
    if isinstance(ctx, MockCloudifyContext):
        return Mode.LOCAL
    endpoint = getattr(ctx, '_endpoint', None)
    if getattr(ctx, '_local', False) is True and isinstance(endpoint, LocalEndpoint) and \
            getattr(endpoint, 'storage', None) is not None:
        return Mode.LOCAL
    return Mode.MANAGER


def operation_context(ctx: Side | Ctx) -> Any:
    """The operation's own context: ``ctx`` when it is one, else the current one (tasks
    hand a relationship's ``ctx.source`` to helpers)."""
    from cloudify.context import CloudifyContext
    from cloudify.state import current_ctx
    if isinstance(ctx, CloudifyContext):
        return ctx
    try:
        return current_ctx.get_ctx()
    except RuntimeError:
        return ctx


def policy(ctx: Side | Ctx, environ: Mapping[str, str] | None = None) -> Policy:
    """The rules for this operation."""
    environ = os.environ if environ is None else environ
    own = operation_context(ctx)
    mode = run_mode(own, environ)
    if mode is Mode.LOCAL:
        return Policy(mode)
    return Policy(mode, load_settings(environ), resources(own), workdir(own, environ))


def resources(ctx: Ctx) -> str | None:
    """The blueprint's directory when a local storage holds it (None on a manager)."""
    storage = getattr(getattr(ctx, '_endpoint', None), 'storage', None)
    if storage is not None and hasattr(storage, 'get_blueprint'):
        return storage.get_blueprint()['resources']
    return None


def workdir(ctx: Ctx, environ: Mapping[str, str]) -> str | None:
    """The deployment's work directory for what the plugin writes (None: none)."""
    from cloudify.endpoint import LocalEndpoint
    endpoint = getattr(ctx, '_endpoint', None)
    if isinstance(endpoint, LocalEndpoint):
        try:
            return os.path.join(endpoint.get_workdir(), WORKDIR_NAME)
        except (NotImplementedError, AttributeError, KeyError):
            return None  # an in-memory local storage has none
    base = environ.get('AGENT_WORK_DIR')
    deployment = str(getattr(getattr(ctx, 'deployment', None), 'id', '') or '')
    tenant = str(getattr(ctx, 'tenant_name', '') or 'default_tenant')
    if not base or not all(_segment(part) for part in (deployment, tenant)):
        return None
    return os.path.join(base, 'deployments', tenant, deployment, WORKDIR_NAME)


def _segment(name: str) -> bool:
    return bool(name) and name not in ('.', '..') and '/' not in name and '\x00' not in name


def _resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None,
                                                                    type=socket.SOCK_STREAM)})


def _is_own(address: str) -> bool:
    """An address is this host's exactly when a socket can be bound to it."""
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError:
        return False
    return True


HOST = HostFacts(resolve=_resolve, is_own=_is_own)


# ------------------------------------------------------------------ reading
def resource_path(ctx: Side, given: str, field: str) -> str:
    """An absolute path for a file or directory given relative to the blueprint.

    Unconfined, absolute paths are taken as they are and relative ones looked up
    among the blueprint's resources; confined, the policy decides first. A
    relative path is found in the blueprint's directory in a local storage, else
    downloaded from the manager.
    """
    own = operation_context(ctx)
    rules = policy(own)
    found = rules.read(given, field)
    if os.path.isabs(found):
        return found
    if not rules.confined:
        root = resources(own)
        if root is not None and os.path.exists(os.path.join(root, found)):
            return os.path.join(root, found)
    try:
        if os.path.splitext(found)[1]:
            return own.download_resource(found)
        return own.download_directory(found)
    except Exception as exc:  # noqa: BLE001 - ctx raises many kinds for a missing resource
        raise InvalidInputError(field, f'{given!r} not found among the blueprint resources '
                                       f'({type(exc).__name__})') from None


def existing(ctx: Side, given: str, field: str) -> str:
    """``resource_path``, which must exist."""
    found = resource_path(ctx, given, field)
    if not os.path.exists(found):
        raise InvalidInputError(field, f'{given!r} not found')
    return found


def check_read(ctx: Side, given: str, field: str, inner: str | None = None,
               inner_field: str = '', what: str = '') -> None:
    """Refuse, before any engine call, what the policy would refuse to read (and ``inner``,
    a path relative to it that may not leave it, named ``inner_field``)."""
    rules = policy(ctx)
    found = rules.read(given, field)
    if inner is not None:
        if os.path.isabs(found):
            rules.within(found, inner, inner_field, what=what)
        else:
            rules.clean(inner, inner_field, what)


def read_file(ctx: Side, path: str, field: str, limit: int) -> bytes:
    """The bytes of a regular file given relative to the blueprint, at most ``limit``
    (a device or a file that grows is never read without end).

    Raises:
        InvalidInputError: naming ``field``: refused, not a regular file, unreadable,
            too large.
    """
    found = resource_path(ctx, path, field)
    if not os.path.isfile(found):
        raise InvalidInputError(field, f'{path!r} is not a readable file')
    try:
        with open(found, 'rb') as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InvalidInputError(field, f'{path!r} cannot be read: {exc.strerror}') from None
    if len(data) > limit:
        raise InvalidInputError(field, f'{path!r} is larger than {limit} bytes')
    return data


def within(ctx: Side, root: str, relative: str, field: str, what: str) -> str:
    """``relative`` under the directory ``root`` (confined: it may not leave it)."""
    return policy(ctx).within(root, relative, field, what=what)


# ------------------------------------------------------------------ writing
def write_directory(ctx: Side, given: str, field: str) -> str:
    """Where the plugin may write ``given`` (confined: in the deployment's work directory;
    made private when the plugin makes it)."""
    rules = policy(ctx)
    found = rules.write(given, field)
    if rules.confined and rules.workdir:
        os.makedirs(rules.workdir, mode=0o700, exist_ok=True)
    return found


# ------------------------------------------------------------------ engines
def client_config(ctx: Side, raw: Any, field: str = 'daemon_client') -> DaemonClientConfig:
    """``daemon_client`` as a client config the policy allows: confined, certificate
    files are blueprint files and the engine is not the manager's own host's."""
    rules = policy(ctx)
    if not rules.confined:
        return resolve_config(raw)
    opts = DAEMON_CLIENT.parse(raw, field)
    opts['tls'] = _tls_files(ctx, opts['tls'], f'{field}.tls')
    opts.update(_tls_files(ctx, {k: opts[k] for k in TLS_FILES}, field))
    config = resolve_config({k: v for k, v in opts.items() if v is not None})
    named = 'host' if opts['host'] is not None else 'base_url'
    given = opts['base_url'] is not None or opts['host'] is not None
    origin = '' if given else ' (DOCKER_HOST of the worker)' if \
        opts['use_env'] is not False and os.environ.get('DOCKER_HOST') else \
        ' (the default: no daemon_client given)'
    rules.engine(config.base_url, f'{field}.{named}', HOST, origin)
    # The worker's own Docker configuration (its registry logins, credential helpers and
    # proxies) is the manager's, not the tenant's: never lent to a blueprint.
    return records.replace(config, host_credentials=False)


def _tls_files(ctx: Side, values: Any, field: str) -> Any:
    """Certificate files named by path are blueprint files (PEM text is the manager way)."""
    if not isinstance(values, dict):
        return values
    out = dict(values)
    for key in TLS_FILES:
        value = out.get(key)
        if isinstance(value, str) and value and not is_pem(value):
            try:
                out[key] = existing(ctx, value, f'{field}.{key}')
            except InvalidInputError as exc:  # the same refusal, told the manager way
                what, _, rest = exc.problem.partition('; ')
                note = rest[rest.find(' (note: '):] if ' (note: ' in rest else ''
                raise InvalidInputError(exc.field, f'{what}; {TLS_HINT}{note}') from None
    return out


def probe_guard(ctx: Side, config: DaemonClientConfig) -> Callable[[str], str | None] | None:
    """What keeps readiness probes off the manager's own host (None: nothing to keep)."""
    rules = policy(ctx)
    if not rules.confined or rules.allowed_engine(config.base_url):
        return None
    return lambda address: rules.unreachable(address, HOST)
