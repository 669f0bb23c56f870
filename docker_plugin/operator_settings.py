"""The manager operator's settings for the plugin: what blueprints may reach beyond the rules.

A blueprint can never give these: they come from a settings file the
operator owns (``/etc/cloudify/docker-plugin.yaml``, or the file
``DOCKER_PLUGIN_SETTINGS`` names; honoured only when root owns it and nobody
else may write it) and
from the worker's environment (on a manager: ``mgmtworker.extra_env`` in
its ``config.yaml``, or the ``cloudify_agent.env`` of its bootstrap
context):

=====================  ===============================  ===============================
file key               environment variable             allows
=====================  ===============================  ===============================
``allow_engines``      ``DOCKER_PLUGIN_ALLOW_ENGINES``  these engines of the manager's
                       (separated by spaces or commas)  host (``unix:///var/run/...``)
``allow_read``         ``DOCKER_PLUGIN_ALLOW_READ``     reading these host directories
                       (separated as in ``PATH``)
``allow_write``        ``DOCKER_PLUGIN_ALLOW_WRITE``    copy_from into these directories
=====================  ===============================  ===============================

Both sources add up. A source that is wrong is ignored whole (it allows
nothing) and the reason is told with every refusal, so a typo fails closed
and loudly.
"""

from __future__ import annotations

import os
import stat
from typing import Any, Mapping

from docker_plugin import records

SETTING_KEYS = ('allow_engines', 'allow_read', 'allow_write')
ENV_ENGINES = 'DOCKER_PLUGIN_ALLOW_ENGINES'
ENV_READ = 'DOCKER_PLUGIN_ALLOW_READ'
ENV_WRITE = 'DOCKER_PLUGIN_ALLOW_WRITE'
ENGINE_SCHEMES = ('unix://', 'tcp://', 'http://', 'https://')
SETTINGS_FILE = '/etc/cloudify/docker-plugin.yaml'
SETTINGS_ENV = 'DOCKER_PLUGIN_SETTINGS'  # another settings file (the worker's environment)
MAX_SETTINGS = 64 * 1024


@records.record(frozen=True)
class Settings:
    """What the manager's operator allows beyond the rules (never a blueprint's to give)."""

    engines: tuple[str, ...] = ()  # engine URLs on the manager's host
    read: tuple[str, ...] = ()  # host directories blueprints may read from
    write: tuple[str, ...] = ()  # host directories copy_from may write into
    problem: str = ''  # why settings were ignored, told with every refusal


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The operator's settings: the settings file (honoured only when root owns it and
    nobody else may write it) and the worker's environment."""
    path = environ.get(SETTINGS_ENV) or SETTINGS_FILE
    data, problem = None, ''
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0) | os.O_NONBLOCK)
    except FileNotFoundError:
        fd = None
    except OSError as exc:
        fd, problem = None, f'{path} was ignored: {exc.strerror or exc}'
    if fd is not None:
        try:  # what was opened is what is judged (no race with a rename)
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                problem = f'{path} was ignored: not a regular file'
            elif info.st_uid != 0 or info.st_mode & 0o022:
                problem = f'{path} was ignored: root must own it and nobody else write it'
            else:
                data, problem = _parse_settings(_read_all(fd, MAX_SETTINGS + 1), path)
        finally:
            os.close(fd)
    found = settings_from(data, path, environ)
    joined = '; '.join(filter(None, [problem, found.problem]))
    return records.replace(found, problem=joined)


def _read_all(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b''.join(chunks)


def _parse_settings(text: bytes, path: str) -> tuple[Any, str]:
    if len(text) > MAX_SETTINGS:
        return None, f'{path} was ignored: larger than {MAX_SETTINGS} bytes'
    try:
        import yaml
        data = yaml.safe_load(text.decode('utf-8'))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is ignored, and said
        return None, f'{path} was ignored: not YAML ({type(exc).__name__})'
    return ({} if data is None else data), ''


def settings_from(data: Any, source: str, environ: Mapping[str, str]) -> Settings:
    """The operator's settings: a settings file's ``data`` (None: no file), from
    ``source``, and the worker's environment. A part that is wrong is ignored whole
    (allowing nothing), and said with every refusal."""
    problems: list[str] = []
    engines: list[str] = []
    read: list[str] = []
    write: list[str] = []
    if data is not None:
        try:
            file = _file_settings(data)
        except ValueError as exc:
            problems.append(f'{source} was ignored: {exc}')
        else:
            engines += file['allow_engines']
            read += file['allow_read']
            write += file['allow_write']
    for name, target, split in ((ENV_ENGINES, engines, _words), (ENV_READ, read, _paths),
                                (ENV_WRITE, write, _paths)):
        try:
            values = split(environ.get(name, ''))
            _check_values(name, values, engines=split is _words)
        except ValueError as exc:
            problems.append(f'{name} was ignored: {exc}')
        else:
            target += values
    return Settings(tuple(engines), tuple(read), tuple(write), '; '.join(problems))


def _file_settings(data: Any) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        raise ValueError('expected a mapping of allow_engines, allow_read, allow_write')
    unknown = sorted(str(k) for k in data if k not in SETTING_KEYS)
    if unknown:
        raise ValueError(f'unknown keys {", ".join(unknown)} (known: {", ".join(SETTING_KEYS)})')
    out = {}
    for key in SETTING_KEYS:
        values = data.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f'{key} must be a list of strings')
        _check_values(key, values, engines=key == 'allow_engines')
        out[key] = values
    return out


def _check_values(name: str, values: list[str], engines: bool) -> None:
    for value in values:
        if engines:
            if not value.startswith(ENGINE_SCHEMES) or '\x00' in value:
                raise ValueError(f'{name}: {value[:80]!r} is not a unix://, tcp:// or '
                                 'https:// URL')
        elif not os.path.isabs(value) or '\x00' in value:
            raise ValueError(f'{name}: {value[:80]!r} is not an absolute path')


def _words(text: str) -> list[str]:
    return text.replace(',', ' ').split()


def _paths(text: str) -> list[str]:
    return [p for p in text.split(os.pathsep) if p]
