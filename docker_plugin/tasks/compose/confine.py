"""The confinement policy applied to a ComposeProject: the files Docker Compose reads.

Compose runs on the host of the operation and reads files of its own: the
project's files, env files and ``.env``, what those include or extend, build
contexts, Dockerfiles, secret and config files (``resources/compose_paths``
finds them all). Confined (on a manager), each must be a file of the
blueprint: the project's files are checked before compose runs; what they
name to read while compose reads the project, before compose runs too
(written literally, never through ``${...}``); what the project builds and
runs from, in the project ``config`` printed, before anything is built or
started (``ProjectSpec.audit``). A program the blueprint names
(``compose_binary``) is never run, and no variable that configures the compose
process itself is given to it.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from docker_plugin import records
from docker_plugin.confinement import READ_HINT, Policy
from docker_plugin.resources.compose import paths as compose_paths
from docker_plugin.resources.compose.project import MAX_FILE, ProjectSpec, inline_directory
from docker_plugin.tasks.confine import policy
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.yaml_expansion import check_expansion

MAX_DOCUMENTS = 64  # compose files read in turn (include, extends) that one project may name


def options(ctx: Ctx, opts: Mapping[str, Any]) -> Mapping[str, Any]:
    """Refuse, confined, a program or process variables the blueprint gives compose."""
    rules = policy(ctx)
    rules.program(opts.get('compose_binary') or '', 'compose_binary')
    for name in ('environment', 'secret_environment'):
        rules.child_environment(opts.get(name) or {}, name)
    return opts


def project(ctx: Ctx, spec: ProjectSpec) -> ProjectSpec:
    """The spec, checked (confined) before compose runs, with the audit of what it builds."""
    rules = policy(ctx)
    if not rules.confined:
        return spec
    roots = _roots(rules, spec)
    paths = [*spec.files, *spec.env_files]
    if spec.directory:
        paths.append(spec.directory)
        if os.path.exists(os.path.join(spec.directory, '.env')):
            paths.append(os.path.join(spec.directory, '.env'))  # compose reads it unasked
    for path in paths:
        if not rules.readable(rules.realpath(path), roots):
            raise rules.refuse(spec.field, f'{os.path.basename(path)!r} leads out of the '
                                           f'blueprint through a symbolic link; {READ_HINT}')
    directory = spec.directory or inline_directory(spec.name)
    documents = [(spec.definition, 'the definition', [directory])] if spec.definition else \
        [(path, os.path.basename(path), [directory, os.path.dirname(path)])
         for path in spec.files]
    _documents(rules, roots, documents, spec.field)
    return records.replace(spec, audit=_audit(rules, roots, spec))


def _roots(rules: Policy, spec: ProjectSpec) -> list[str]:
    """Where the project's files may be: the blueprint's directory, or (fetched from a
    manager, each a fresh copy) the directories they were fetched into."""
    if rules.resources is not None:
        return [rules.realpath(rules.resources)]
    found = [spec.directory] if spec.directory else []
    return [rules.realpath(p) for p in
            found + [os.path.dirname(f) for f in (*spec.files, *spec.env_files)]]


def _documents(rules: Policy, roots: list[str], queue: list[tuple[str, str, list[str]]],
               field: str) -> None:
    """Every file compose reads while it reads the project, from the documents queued
    ((path or definition text, label, base directories)) and those they name in turn."""
    seen: set[str] = set()
    while queue:
        source, label, bases = queue.pop(0)
        if source in seen:
            continue
        seen.add(source)
        if len(seen) > MAX_DOCUMENTS:
            raise rules.refuse(field, f'the project reads more than {MAX_DOCUMENTS} compose '
                                      'files (include, extends)')
        text = source if label == 'the definition' else _text(source)
        if text is None:
            continue  # compose says what is wrong with it
        check_expansion(text, field)
        for where, kind, value in compose_paths.config_reads(compose_paths.load(text)):
            at = f'{label} {where}'
            for real in _targets(rules, roots, bases, value, field, at):
                if kind == compose_paths.FILE and os.path.isfile(real):
                    queue.append((real, os.path.basename(real),
                                  [*bases, os.path.dirname(real)]))


def _targets(rules: Policy, roots: list[str], bases: list[str], value: str, field: str,
             at: str) -> list[str]:
    """The real paths ``value`` can name (relative: against each base compose may use),
    each inside the roots."""
    if '$' in value:
        raise rules.refuse(field, f'{at}: {value!r} uses interpolation; on a Cloudify '
                                  'manager write a path compose reads literally')
    if compose_paths.is_remote(value):
        raise rules.refuse(field, f'{at}: {value!r} is fetched by the manager; on a Cloudify '
                                  'manager a project reads only files of the blueprint')
    if value.startswith('~') or '\x00' in value:
        raise rules.refuse(field, f"{at}: {value!r} is not a path of the blueprint; "
                                  f'{READ_HINT}')
    try:  # YAML reads "\ud800\udc00" as two halves of one character: join them
        value = value.encode('utf-16', 'surrogatepass').decode('utf-16')
    except UnicodeError:
        raise rules.refuse(field, f'{at}: {value!r} is not text (half of a UTF-16 '
                                  'character)') from None
    found = []
    for base in bases if not os.path.isabs(value) else ['/']:
        real = rules.realpath(os.path.join(base, value))
        if not rules.readable(real, roots):
            raise rules.refuse(field, f"{at}: {value!r} is outside the blueprint (a path on "
                                      f"the manager's own host); {READ_HINT}")
        found.append(real)
    return found


def _text(path: str) -> str | None:
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return handle.read(MAX_FILE + 1)
    except OSError:
        return None


def _audit(rules: Policy, roots: list[str],
           spec: ProjectSpec) -> Callable[[Mapping[str, Any]], None]:
    def audit(model: Mapping[str, Any]) -> None:
        """Refuse a project whose build or run reads files outside the blueprint."""
        directory = spec.directory or inline_directory(spec.name)
        for where, path in compose_paths.model_reads(model, directory):
            if '\x00' in path or not rules.readable(rules.realpath(path), roots):
                raise rules.refuse(spec.field, f"{where}: {path!r} is outside the blueprint "
                                               f"(a path on the manager's own host); "
                                               f'{READ_HINT}')
    return audit
