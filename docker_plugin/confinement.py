"""Where an operation may reach on the host that runs it: the one policy.

Cloudify runs the plugin's operations in one of two modes:

``LOCAL``
    a ``cfy`` local run or ``init_env``: the user's own machine, as Ansible's
    controller. Paths and engines are taken as given.
``MANAGER``
    a Cloudify worker runs them (``executor: central_deployment_agent``: the
    management worker, on the manager's host) for blueprints tenants upload:

    * a path the plugin reads names something inside the blueprint: relative,
      no ``..`` out of it, no symbolic link out of it, nothing absolute;
    * what the plugin writes (``copy_from``) lands inside the deployment's work
      directory;
    * the engine of the manager's own host is refused: any ``unix://`` socket,
      and tcp/https addresses that are the host's own (loopback, unspecified,
      link-local, multicast or reserved, or an address of one of its
      interfaces; names are resolved first);
    * no program a blueprint names is run (``compose_binary``), and no variable
      that configures the compose process itself is given to it;

    unless the manager's operator allows more (``Settings``), with settings
    a blueprint cannot give itself.

Every refusal is an ``InvalidInputError`` naming the field, with what to do.
The decisions depend only on their arguments: the mode, the operator's
settings, the paths and the facts about this host they are handed
(``docker_plugin.tasks.confine`` gathers those from the run).
"""

from __future__ import annotations

import enum
import ipaddress
import os
import posixpath
import urllib.parse
from typing import Callable, Iterable

from docker_plugin import records
from docker_plugin.errors import InvalidInputError, TransientError
from docker_plugin.operator_settings import Settings

MANAGER_SAYS = 'on a Cloudify manager'
READ_HINT = (f'{MANAGER_SAYS} give a path inside the blueprint, relative to it (the '
             "manager's operator can allow a host directory: allow_read)")
WRITE_HINT = (f"{MANAGER_SAYS} copy_from writes only into the deployment's work directory: "
              "give a directory relative to it (the operator can allow another: allow_write)")
ENGINE_HINT = (f'{MANAGER_SAYS} give a remote engine (tcp://host:2376 with TLS), or have the '
               "manager's operator allow this one (allow_engines)")
# Variables of the compose process itself (prefixes, then whole names): a project's
# interpolation variables may not set them on a manager.
PROCESS_PREFIXES = ('DOCKER_', 'COMPOSE_', 'BUILDKIT_', 'BUILDX_', 'LD_', 'OTEL_', 'XDG_',
                    'SSL_', 'GIT_', 'SSH_')
PROCESS_NAMES = frozenset({'PATH', 'HOME', 'TMPDIR', 'USER', 'SHELL', 'HOSTALIASES',
                           'RES_OPTIONS', 'LOCALDOMAIN', 'GCONV_PATH', 'GODEBUG', 'GOGC',
                           'GOMAXPROCS', 'GOMEMLIMIT', 'GOTRACEBACK', 'HTTP_PROXY',
                           'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy',
                           'all_proxy', 'no_proxy'})
# Compose settings that only tune how it works on the engine given.
SAFE_COMPOSE = frozenset({'COMPOSE_PARALLEL_LIMIT', 'COMPOSE_IGNORE_ORPHANS',
                          'COMPOSE_REMOVE_ORPHANS', 'COMPOSE_STATUS_STDOUT'})


NO_SETTINGS = Settings()


class Mode(enum.Enum):
    LOCAL = 'local'
    MANAGER = 'manager'


@records.record(frozen=True)
class HostFacts:
    """What the engine check needs to know about this host."""

    resolve: Callable[[str], list[str]]  # host name -> addresses (OSError: cannot)
    is_own: Callable[[str], bool]  # whether an address is one of this host's


@records.record(frozen=True)
class Policy:
    """The rules for one operation."""

    mode: Mode
    settings: Settings = NO_SETTINGS
    resources: str | None = None  # the blueprint's directory, when it is on this host
    workdir: str | None = None  # the deployment's work directory (None: there is none)
    realpath: Callable[[str], str] = os.path.realpath

    @property
    def confined(self) -> bool:
        return self.mode is Mode.MANAGER

    def refuse(self, field: str, problem: str) -> InvalidInputError:
        note = f' (note: {self.settings.problem})' if self.settings.problem else ''
        return InvalidInputError(field, problem + note)

    # ---------------------------------------------------------------- reading
    def read(self, given: str, field: str) -> str:
        """Where to read ``given`` from: a real absolute path on this host, or (the
        blueprint's files not being here) the clean relative path to fetch.
        Unconfined, ``given`` itself."""
        if not self.confined:
            return given
        if _absolute(given, field, self, 'read'):
            real = self.realpath(given)
            if inside(real, self._roots(self.settings.read)):
                return real
            raise self.refuse(field, f"{given!r} is a path on the manager's own host; "
                                     f'{READ_HINT}')
        clean = _relative(given, field, self, READ_HINT, 'the blueprint')
        if self.resources is None:
            return clean
        return self.within(self.resources, clean, field, given, 'the blueprint')

    def within(self, root: str, relative: str, field: str, given: str | None = None,
               what: str = 'the blueprint') -> str:
        """The real path of ``relative`` under ``root``, which it may not leave
        (through ``..`` or a symbolic link). Unconfined, the plain join."""
        joined = os.path.join(root, relative)
        if not self.confined:
            return joined
        given = relative if given is None else given
        if '\x00' in relative:
            raise self.refuse(field, 'contains a NUL character')
        if os.path.isabs(relative):
            raise self.refuse(field, f'{given!r} must be relative to {what}; {READ_HINT}')
        real = self.realpath(joined)
        if not inside(real, [self.realpath(root), *self._roots(self.settings.read)]):
            raise self.refuse(field, f'{given!r} leads out of {what} (through ".." or a '
                                     f'symbolic link); {READ_HINT}')
        return real

    def clean(self, given: str, field: str, what: str) -> str:
        """``given`` as a clean path relative to ``what``, which it may not leave (written
        alone: where ``what`` is cannot be looked at yet). Unconfined, ``given``."""
        if not self.confined:
            return given
        if _absolute(given, field, self, 'read'):
            raise self.refuse(field, f'{given!r} must be relative to {what}; {READ_HINT}')
        return _relative(given, field, self, READ_HINT, what)

    def readable(self, real: str, roots: Iterable[str]) -> bool:
        """Whether a real path lies inside ``roots`` or a directory the operator allows."""
        return not self.confined or inside(real, [*self._roots(roots),
                                                  *self._roots(self.settings.read)])

    # ---------------------------------------------------------------- writing
    def write(self, given: str, field: str) -> str:
        """The directory to write ``given`` into (relative: in the work directory)."""
        if not self.confined:
            return given
        if not self.workdir:
            raise self.refuse(field, 'this operation has no deployment work directory to '
                                     "write into (a manager's worker gives one to operations "
                                     'of a deployment)')
        root = self.realpath(self.workdir)
        if _absolute(given, field, self, 'write'):
            real = self.realpath(given)
            if inside(real, [root, *self._roots(self.settings.write)]):
                return real
            raise self.refuse(field, f"{given!r} is outside this deployment's work "
                                     f'directory; {WRITE_HINT}')
        clean = _relative(given, field, self, WRITE_HINT, "the deployment's work directory")
        real = self.realpath(os.path.join(root, clean))
        if not inside(real, [root]):
            raise self.refuse(field, f"{given!r} leads out of the deployment's work directory "
                                     f'through a symbolic link; {WRITE_HINT}')
        return real

    # ---------------------------------------------------------------- engines
    def engine(self, url: str, field: str, facts: HostFacts, origin: str = '') -> None:
        """Refuse an engine of the manager's own host, unless the operator allows it."""
        if not self.confined or self.allowed_engine(url):
            return
        try:
            key = engine_key(url, self.realpath)
        except ValueError as exc:
            raise self.refuse(field, f'not an engine address: {exc}') from None
        if key[0] == 'unix':
            raise self.refuse(field, f"{url}{origin} is a socket on the manager's own host "
                                     f'(its Docker engine); {ENGINE_HINT}')
        try:
            addresses = facts.resolve(key[1])
        except OSError as exc:
            raise TransientError(f'{field}: the engine at {url} is unreachable: its host '
                                 f'name does not resolve ({exc.strerror or exc})') from None
        for address in addresses:
            why = own_address(address, facts.is_own)
            if why:
                raise self.refuse(field, f"{url}{origin} is the manager's own host "
                                         f'({address}: {why}); {ENGINE_HINT}')

    def allowed_engine(self, url: str) -> bool:
        try:
            key = engine_key(url, self.realpath)
            return any(engine_key(u, self.realpath) == key for u in self.settings.engines)
        except ValueError:
            return False

    def unreachable(self, host: str, facts: HostFacts) -> str | None:
        """Why a readiness probe may not connect to ``host`` (None: it may)."""
        if not self.confined:
            return None
        try:
            addresses = [str(ipaddress.ip_address(host.split('%')[0]))]
        except ValueError:
            try:
                addresses = facts.resolve(host)
            except OSError:
                return None  # the connection fails on its own
        for address in addresses:
            why = own_address(address, facts.is_own)
            if why:
                return f"{why} of the manager's own host"
        return None

    # ---------------------------------------------------------------- processes
    def program(self, given: str, field: str) -> None:
        """A program the blueprint names is never run on a manager."""
        if self.confined and given:
            raise self.refuse(field, f'{MANAGER_SAYS} the operator chooses the program (its '
                                     "worker's environment), not the blueprint: remove "
                                     f'{field.split(".")[-1]}')

    def child_environment(self, names: Iterable[str], field: str) -> None:
        """Variables for a child process: none that configures the process itself."""
        if not self.confined:
            return
        for name in names:
            if name in SAFE_COMPOSE:
                continue
            if name in PROCESS_NAMES or name.startswith(PROCESS_PREFIXES):
                raise self.refuse(f'{field}.{name}', 'configures the compose process itself '
                                  f'(its engine, files, programs or network), not the project; '
                                  f'{MANAGER_SAYS} give the variable another name '
                                  '(daemon_client chooses the engine)')

    def _roots(self, roots: Iterable[str]) -> list[str]:
        return [self.realpath(r) for r in roots]


def inside(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or below one (all absolute and real)."""
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep)
               for root in roots)


def _absolute(given: str, field: str, policy: Policy, kind: str) -> bool:
    if '\x00' in given:
        raise policy.refuse(field, 'contains a NUL character')
    if given.startswith('~'):
        hint = READ_HINT if kind == 'read' else WRITE_HINT
        raise policy.refuse(field, f"{given!r} is in a home directory on the manager's own "
                                   f'host; {hint}')
    return os.path.isabs(given)


def _relative(given: str, field: str, policy: Policy, hint: str, what: str) -> str:
    clean = posixpath.normpath(given)
    if clean == '..' or clean.startswith('../'):
        raise policy.refuse(field, f'{given!r} leads out of {what}; {hint}')
    return clean


def engine_key(url: str, realpath: Callable[[str], str] = os.path.realpath) -> tuple:
    """What identifies an engine address: ('unix', real socket path) or ('tcp', host,
    port); https:// and tcp:// name the same endpoint. Raises ValueError."""
    scheme, sep, rest = url.partition('://')
    if not sep:
        raise ValueError(f'not an engine URL: {url[:80]!r}')
    if '\x00' in url:
        raise ValueError('contains a NUL character')
    if scheme == 'unix':
        return ('unix', realpath('/' + rest.lstrip('/')))
    parts = urllib.parse.urlsplit(f'tcp://{rest}')
    return ('tcp', (parts.hostname or '').lower(), parts.port)


def own_address(address: str, is_own: Callable[[str], bool]) -> str | None:
    """Why ``address`` is the manager's own host (None: it is another host)."""
    try:
        ip = ipaddress.ip_address(address.split('%')[0])
    except ValueError:
        return 'not an address'
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, why in (('is_loopback', 'a loopback address'),
                      ('is_unspecified', 'the unspecified address: this host'),
                      ('is_link_local', 'a link-local address'),
                      ('is_multicast', 'a multicast address'),
                      ('is_reserved', 'a reserved address')):
        if getattr(ip, test):
            return why
    return 'an address of this host' if is_own(str(ip)) else None
