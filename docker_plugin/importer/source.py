"""Read a compose project the way compose reads it: the binary's own ``config``.

Three looks at one project: the normalised model (interpolated), the same
without interpolation (to see which values came from a variable), and every
service of every profile (to name the ones an inactive profile leaves out).
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

from docker_plugin import records
from docker_plugin.errors import InvalidInputError, PluginError
from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.binary import find_binary
from docker_plugin.resources.compose.progress import Progress
from docker_plugin.resources.compose.project import check_documents


@records.record
class Source:
    model: dict[str, Any]
    raw: dict[str, Any]
    inactive: list[str]
    version: str
    files: list[str]
    directory: str  # the project directory (base of relative paths)


def _argv(binary: str, files: Sequence[str], directory: str | None, name: str | None,
          env_files: Sequence[str], profiles: Sequence[str]) -> list[str]:
    argv = [binary, '--progress', 'json', '--ansi', 'never']
    for path in files:
        argv += ['-f', path]
    if directory:
        argv += ['--project-directory', directory]
    if name:
        argv += ['-p', name]
    for path in env_files:
        argv += ['--env-file', path]
    for profile in profiles:
        argv += ['--profile', profile]
    return argv


def _run(argv: list[str], environ: Mapping[str, str], timeout: float) -> str:
    progress = Progress('', lambda level, text: None)
    def on_line(stream: str, line: str) -> None:
        if stream == 'stderr':
            progress.feed(stream, line)

    outcome = compose_process.run(argv, environ, timeout, 'compose config', on_line=on_line,
                                  keep='stdout')
    if outcome.returncode != 0:
        raise InvalidInputError('compose file', f'compose refused the project: '
                                f'{progress.failure_text(outcome.tail("stderr"))}')
    return outcome.kept


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInputError('compose file', 'compose config did not answer with a project '
                                                '(is the compose binary Docker Compose v2?)')
    return value


def read(files: Sequence[str], environ: Mapping[str, str], directory: str | None = None,
         name: str | None = None, env_files: Sequence[str] = (),
         profiles: Sequence[str] = (), binary: str | None = None,
         timeout: float = 120.0) -> Source:
    """The project as compose sees it.

    Raises:
        InvalidInputError: compose refused the files (its message is quoted).
    """
    binary = find_binary(binary)
    check_documents('', files, 'compose file')
    base = _argv(binary, files, directory, name, env_files, profiles)
    model = _json(_run([*base, 'config', '--format', 'json'], environ, timeout))
    try:
        raw = _json(_run([*base, 'config', '--no-interpolate', '--format', 'json'],
                         environ, timeout))
    except (PluginError, ValueError):
        raw = {}  # only used to see which values were variables
    try:
        every = _run([*_argv(binary, files, directory, name, env_files, ['*']), 'config',
                      '--services'], environ, timeout).split()
    except PluginError:
        every = []
    version = _run([binary, 'version', '--short'], environ, timeout).strip()
    active = set(model.get('services') or {})
    base_dir = os.path.abspath(directory or os.path.dirname(os.path.abspath(files[0])))
    return Source(model, raw, sorted(set(every) - active), version, list(files), base_dir)
