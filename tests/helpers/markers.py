"""The markers a developer selects by, applied by rule (tests/conftest.py).

* ``unit``: every test under ``tests/unit`` (no engine).
* ``swarm``: every test that uses the three-engine lab (the ``swarm_lab``
  fixture, which ``swarm`` and every swarm fixture of a module depend on).
* ``compose``: every test that runs the compose binary, or a program that does
  (``compose-to-blueprint``, the plugin in a ``cfy`` process on a blueprint with a
  ComposeProject). Tests mark themselves; ``ComposeGuard`` watches every process the
  test process starts and fails a test that ran compose unmarked, so the marker
  cannot fall behind the tests.
* ``slow``: the tests listed in ``tests/slow.txt`` (over about 20 s on the 2-core
  machine, measured with ``--durations``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable

TESTS = Path(__file__).resolve().parents[1]
SLOW_LIST = TESTS / 'slow.txt'
SWARM_FIXTURE = 'swarm_lab'
# The ways a test starts compose: the binary (packaged as docker-compose, or the docker
# CLI's plugin) and the importer, which runs its ``config``.
COMPOSE_PROGRAMS = ('docker-compose', 'compose-to-blueprint')
IMPORTER_MODULE = 'docker_plugin.importer.cli'


def slow_tests(path: Path = SLOW_LIST) -> set[str]:
    """Node ids (relative to the repository) listed in ``path``; '#' starts a comment."""
    if not path.is_file():
        return set()
    found = set()
    for line in path.read_text().splitlines():
        entry = line.split('#', 1)[0].strip()
        if entry:
            found.add(entry)
    return found


def apply(items: Iterable[Any], slow: set[str]) -> set[str]:
    """Mark ``items`` by rule; returns the entries of ``slow`` that match no item (node
    ids are relative to the repository, pytest's rootdir)."""
    import pytest

    unused = set(slow)
    for item in items:
        if TESTS / 'unit' in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.unit)
        if SWARM_FIXTURE in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.swarm)
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
            unused.discard(item.nodeid)
    return unused


def runs_compose(args: Any) -> bool:
    """Whether a process started with ``args`` (Popen's) is compose or runs it."""
    argv = [os.fspath(a) for a in args] if isinstance(args, (list, tuple)) else \
        [os.fspath(args)] if args else []
    if not argv:
        return False
    program = os.path.basename(str(argv[0]))
    if program in COMPOSE_PROGRAMS:
        return True
    if program == 'docker' and 'compose' in argv[1:3]:
        return True
    return IMPORTER_MODULE in argv


class ComposeGuard:
    """An audit hook that notes when the current test starts compose."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.ran: set[str] = set()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event == 'subprocess.Popen' and self.current is not None \
                and self.current not in self.ran and runs_compose(args[1]):
            self.ran.add(self.current)

    def start(self, nodeid: str) -> None:
        self.current = nodeid

    def stop(self) -> None:
        self.current = None

    def unmarked(self, item: Any) -> str | None:
        """A complaint when ``item`` ran compose without the ``compose`` marker."""
        if item.nodeid in self.ran and item.get_closest_marker('compose') is None:
            return (f'{item.nodeid} runs the compose binary: mark it '
                    '@pytest.mark.compose (see tests/helpers/markers.py)')
        return None
