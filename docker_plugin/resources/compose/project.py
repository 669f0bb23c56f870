"""One compose project on one engine: Docker Compose v2 itself, driven as a subprocess.

``open_project`` gives a ``Compose`` for a ``with`` block: the engine's
environment (``compose_engine``), an inline definition and the label
override as in-memory files, and one method per compose command. Every
command runs under the spec's deadline with ``--progress json``; progress is
emitted as readable events (``compose_progress``) and a failure is raised
classified (``command_failures.classify_compose``) with compose's own message.

Labels: compose has no ``--label``. After reading the project
(``config --format json``), an override file is generated that adds the
Cloudify labels to every service (and its build), network and volume the
project defines (external ones excepted); ``up`` and the drift hashes use
it, so everything compose makes carries them.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import uuid
from typing import Any, Callable, Iterable, Iterator, Mapping

from docker_plugin import records
from docker_plugin.client import DaemonClientConfig
from docker_plugin.command_failures import classify_compose
from docker_plugin.errors import (
    InvalidInputError,
    RefusedError,
    StateError,
    TimeoutExpired,
    TransientError,
)
from docker_plugin.resources.compose import process as compose_process
from docker_plugin.resources.compose.engine import EngineEnv, engine_environment
from docker_plugin.resources.compose.progress import Emit, Progress
from docker_plugin.yaml_expansion import check_expansion

MAX_FILE = 10 * 1024 * 1024  # characters of a compose file read for the check


@records.record(frozen=True)
class ProjectSpec:
    """Everything that says which project, read how."""

    name: str
    binary: str
    directory: str = ''  # '' with a definition: a private empty directory per project
    files: tuple[str, ...] = ()
    definition: str = ''  # inline YAML or JSON text
    env_files: tuple[str, ...] = ()
    environment: Mapping[str, str] = records.field(default_factory=dict, repr=False)
    profiles: tuple[str, ...] = ()
    labels: Mapping[str, str] = records.field(default_factory=dict)
    timeout: float = 900.0
    field: str = 'compose_files'  # the input quoted when compose refuses the project
    # Called with the project as ``config`` reads it, before anything is built or run
    # (it raises to refuse the project: see tasks.confine_compose).
    audit: Callable[[Mapping[str, Any]], None] | None = records.field(
        default=None, repr=False, compare=False)


def inline_directory(name: str) -> str:
    """The stable, empty project directory of an inline definition, in a directory only
    this user can write (another user of the host could otherwise make it first, with a
    compose.yaml that compose would read).

    Raises:
        StateError: the user's directory exists and is not private to the user.
    """
    root = os.path.join(tempfile.gettempdir(), f'docker-plugin-compose-{os.getuid()}')
    os.makedirs(root, mode=0o700, exist_ok=True)
    found = os.lstat(root)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or \
            found.st_mode & 0o077:
        raise StateError(f'{root} is not a directory only this user can use: remove it')
    return os.path.join(root, name)


class Compose:
    """Compose commands for one project (use ``open_project``)."""

    def __init__(self, spec: ProjectSpec, engine: EngineEnv, emit: Emit):
        self.spec = spec
        self.engine = engine
        self.emit = emit
        self.files = list(spec.files)
        if spec.definition:
            self.files = [engine.path_for(spec.definition, 'compose.yaml')]
        # No files: the project is found by its name (compose's labels), from an empty
        # directory so that no compose.yaml there is read instead.
        self.by_name = not self.files
        self.directory = (spec.directory if not self.by_name else '') or \
            inline_directory(spec.name)
        self._model: dict[str, Any] | None = None
        self._override: str | None = None

    # ------------------------------------------------------------------ plumbing
    def argv(self, command: Iterable[str], override: bool = False) -> list[str]:
        argv = [self.spec.binary, '--progress', 'json', '--ansi', 'never', '-p', self.spec.name,
                '--project-directory', self.directory]
        for path in [*self.files, *([self.override()] if override else [])]:
            argv += ['-f', path]
        for path in self.spec.env_files:
            argv += ['--env-file', path]
        for profile in self.spec.profiles:
            argv += ['--profile', profile]
        return argv + list(command)

    def call(self, action: str, command: Iterable[str], override: bool = False,
             keep: str | None = None, timeout: float | None = None,
             on_line: Callable[[str, str], None] | None = None,
             ) -> tuple[compose_process.Outcome, Progress]:
        """Run one compose command; raise its failure classified."""
        known = self._model is not None or self.by_name
        argv = self.argv(command, override)
        progress = Progress(self.spec.name, self.emit)

        def feed(stream: str, line: str) -> None:
            if stream == 'stderr' or keep != 'stdout':
                progress.feed(stream, line)
            if on_line is not None:
                on_line(stream, line)

        env = {**self.engine.environ, **self.spec.environment, 'COMPOSE_MENU': 'false'}
        with self._directory():
            try:
                outcome = compose_process.run(argv, env, timeout or self.spec.timeout, action,
                                              on_line=feed, keep=keep,
                                              pass_fds=self.engine.pass_fds)
            except TimeoutExpired as exc:
                if known:  # what compose was doing, in words (its raw lines are JSON)
                    message = compose_process.expired_message(
                        action, timeout or self.spec.timeout, progress.last_words())
                    why = self.engine.silence()
                    if why:  # a silent engine held it: retried, as any unreachable engine
                        raise TransientError(f'{message}; the engine does not answer either: '
                                             f'{why}') from None
                    raise TimeoutExpired(message) from None
                # Reading the files never calls the engine: they are what took so long.
                raise InvalidInputError(self.spec.field, f'compose could not read the project '
                                                         f'in time: {exc}') from None
        if outcome.returncode != 0:
            text = progress.failure_text(outcome.tail('stderr') or outcome.tail('stdout'))
            raise classify_compose(text, action, self.spec.field, model_known=known)
        return outcome, progress

    @contextlib.contextmanager
    def _directory(self) -> Iterator[None]:
        """The project directory for one command; a private empty one (inline
        definitions, projects found by name) exists only while compose runs."""
        made = not os.path.isdir(self.directory)
        if made:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        try:
            yield
        finally:
            if made:
                with contextlib.suppress(OSError):
                    os.rmdir(self.directory)

    # ------------------------------------------------------------------ the model
    def model(self) -> dict[str, Any]:
        """The normalised project (``config --format json``), read once per block."""
        if self._model is None:
            check_documents(self.spec.definition, self.spec.files, self.spec.field)
            outcome, _ = self.call('compose config', ['config', '--format', 'json'],
                                   keep='stdout')
            try:
                model = json.loads(outcome.kept)
            except ValueError:
                raise RefusedError('compose config: the answer is not JSON') from None
            model = model if isinstance(model, dict) else {}
            if self.spec.audit is not None:
                self.spec.audit(model)
            self._model = model
        return self._model

    def override(self) -> str:
        """The in-memory override file that puts the labels on everything."""
        if self._override is None:
            text = label_override(self.model(), self.spec.labels)
            self._override = self.engine.path_for(text, 'labels.compose.json')
        return self._override

    def hashes(self) -> dict[str, str]:
        """Each service's configuration hash, as ``up`` would label its containers."""
        outcome, _ = self.call('compose config --hash', ['config', '--hash', '*'],
                               override=True, keep='stdout')
        pairs = (line.split() for line in outcome.kept.splitlines())
        return {p[0]: p[1] for p in pairs if len(p) == 2}

    # ------------------------------------------------------------------ commands
    def up(self, options: Mapping[str, Any], services: Iterable[str] = ()) -> Progress:
        self.model()
        command = ['up', '--detach']
        if options.get('wait', True):
            command += ['--wait', '--wait-timeout', str(int(options.get('wait_timeout', 300)))]
        if options.get('remove_orphans'):
            command.append('--remove-orphans')
        if options.get('pull', 'policy') != 'policy':
            command += ['--pull', options['pull']]
        command += {'always': ['--build'], 'never': ['--no-build']}.get(
            options.get('build', 'auto'), [])
        command += {'always': ['--force-recreate'], 'never': ['--no-recreate']}.get(
            options.get('recreate', 'auto'), [])
        for service, count in sorted((options.get('scale') or {}).items()):
            command += ['--scale', f'{service}={count}']
        _, progress = self.call('compose up', [*command, *services], override=True)
        return progress

    def down(self, options: Mapping[str, Any]) -> Progress:
        command = ['down']
        if options.get('remove_orphans', True):
            command.append('--remove-orphans')
        if options.get('remove_volumes'):
            command.append('--volumes')
        if options.get('remove_images', 'none') != 'none':
            command += ['--rmi', options['remove_images']]
        command += _stop_timeout(options)
        _, progress = self.call('compose down', command)
        return progress

    def stop(self, options: Mapping[str, Any]) -> Progress:
        _, progress = self.call('compose stop', ['stop', *_stop_timeout(options)])
        return progress

    def pull(self, policy: str, services: Iterable[str] = ()) -> Progress:
        """``pull`` (give the services: with none, compose pulls every one)."""
        command = ['pull', '--ignore-buildable', '--policy', policy, *services]
        _, progress = self.call('compose pull', command)
        return progress

    def text(self, action: str, command: list[str], timeout: float,
             tail_chars: int = 8000) -> compose_process.Outcome:
        """A command whose output is for a person (logs, exec): its exit code, the last
        ``tail_chars`` of each stream (``tail``) and how many bytes each printed
        (``sizes``)."""
        argv = self.argv(command)
        env = {**self.engine.environ, **self.spec.environment}
        with self._directory():
            return compose_process.run(argv, env, timeout, action,
                                       pass_fds=self.engine.pass_fds, tail_chars=tail_chars)

    def ps(self, services: Iterable[str] = (), timeout: float | None = None) -> list[dict]:
        outcome, _ = self.call('compose ps', ['ps', '--all', '--format', 'json', *services],
                               keep='stdout', timeout=timeout)
        rows = []
        for line in outcome.kept.splitlines():
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                rows += value if isinstance(value, list) else [value]
        return [r for r in rows if isinstance(r, dict)]


def check_documents(definition: str, files: Iterable[str], field: str) -> None:
    """What compose is about to read, checked for YAML that aliases blow up."""
    if definition:
        check_expansion(definition, field)
    for path in files:
        try:
            with open(path, encoding='utf-8', errors='replace') as handle:
                text = handle.read(MAX_FILE + 1)
        except OSError:
            continue  # compose says what is wrong with it
        check_expansion(text, field)


def _stop_timeout(options: Mapping[str, Any]) -> list[str]:
    value = options.get('stop_timeout')
    return [] if value is None else ['--timeout', str(int(value))]


def label_override(model: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """An override adding ``labels`` to every service, build, network and volume.

    Every service also gets its environment as ``config`` resolved it and
    ``env_file: !reset []``: ``up`` hashes a service with its ``env_file``
    list while ``config --hash`` (and ``config``'s output, so which services
    read one is not known) hash it without, so every service reading an env
    file would look drifted. ``config`` keeps ``$$`` escaped: the values read
    back the same.
    """
    labels = dict(labels)
    reset = f'reset-{uuid.uuid4().hex}'
    services = {}
    for name, service in (model.get('services') or {}).items():
        service = service if isinstance(service, dict) else {}
        entry: dict[str, Any] = {'labels': labels}
        if service.get('build'):
            entry['build'] = {'labels': labels}
        entry['env_file'] = reset
        entry['environment'] = service.get('environment') or {}
        services[name] = entry
    out: dict[str, Any] = {'services': services}
    for kind in ('networks', 'volumes'):
        owned = {name: {'labels': labels} for name, item in (model.get(kind) or {}).items()
                 if not (isinstance(item, dict) and item.get('external'))}
        if owned:
            out[kind] = owned
    # JSON is YAML; a YAML tag marks the reset.
    return json.dumps(out).replace(f'"{reset}"', '!reset []')


@contextlib.contextmanager
def open_project(spec: ProjectSpec, config: DaemonClientConfig,
                 emit: Emit) -> Iterator[Compose]:
    """A ``Compose`` for one block; in-memory files and certificate links go with it."""
    with engine_environment(config) as engine:
        yield Compose(spec, engine, emit)
