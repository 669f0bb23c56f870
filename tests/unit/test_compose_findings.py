"""What the compose adversarial tiers found, pinned without an engine.

Each test is the smallest form of an example ``tests/adversarial/
test_fuzz_compose.py`` (or a probe next to it) broke the invariant with: an
input the option tables let through and compose or the process refused in
words that named no field, a traceback, or a document that took compose
minutes and gigabytes to read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docker_plugin.errors import (
    InvalidInputError,
    RefusedError,
    classify_message,
)
from docker_plugin.options.compose import COMPOSE_LOGS, COMPOSE_PROJECT

REPO = Path(__file__).resolve().parents[2]
ENV = {'PATH': os.environ.get('PATH', '/usr/bin:/bin')}
# Nine aliases of nine aliases ... of nine: ten lines, 387 million nodes once expanded.
BOMB = '\n'.join(['a: &a [x, x, x, x, x, x, x, x, x]'] + [
    f'{chr(98 + i)}: &{chr(98 + i)} [' + ', '.join([f'*{chr(97 + i)}'] * 9) + ']'
    for i in range(8)] + ['services: {app: {image: x, labels: [*i]}}'])


# ------------------------------------------------------------------ inputs
@pytest.mark.parametrize('since', ['10m', '1h30m', '-5m', '1.5h', '0', '1700000000',
                                   '1700000000.5', '2024-01-02', '2024-01-02T10:00',
                                   '2024-01-02T10:00:00Z', '2024-01-02T10:00:00.123+02:00', ''])
def test_logs_since_takes_what_compose_takes(since):
    assert COMPOSE_LOGS.parse({'since': since})['since'] == since


@pytest.mark.parametrize('since', ['garbage', '2024-01-02 10:00', '1e3', '10M', '5d',
                                   '2024-13-45', '2024-02-30', '٣m', '2562048h',
                                   '2024-01-02T10:00:00+99:99'])
def test_logs_since_that_compose_would_refuse_is_refused_naming_it(since):
    # Found: "compose logs: engine refused: invalid value for "since": ..." named no input.
    with pytest.raises(InvalidInputError, match=r'^since: '):
        COMPOSE_LOGS.parse({'since': since})


@pytest.mark.parametrize('name', ['environment', 'secret_environment'])
def test_interpolation_variable_names_cannot_hold_an_equals_sign(name):
    # Found: "create failed: ValueError: illegal environment variable name" (a traceback's
    # worth of nothing: the names go into compose's own environment).
    with pytest.raises(InvalidInputError, match=rf"^{name} key 'A=B'"):
        COMPOSE_PROJECT.parse({name: {'A=B': 'x'}})
    assert COMPOSE_PROJECT.parse({name: {'A_B': 'x=y'}})[name] == {'A_B': 'x=y'}


# ------------------------------------------------------------------ classification


def test_the_memory_limit_a_swap_limit_needs_is_a_permanent_refusal():
    # Found: memswap_limit without mem_limit: "compose up: engine error: ... (not a known
    # failure: retry 1 of 3)".
    message = ('container x-app-1: Error response from daemon: You should always set the '
               'Memory limit when using Memoryswap limit, see usage')
    assert isinstance(classify_message(None, message, 'compose up'), RefusedError)


# ------------------------------------------------------------------ reading the project


def _fake_compose(tmp_path: Path, script: str) -> str:
    path = tmp_path / 'fake-compose'
    path.write_text(f'#!/bin/sh\n{script}\n')
    path.chmod(0o755)
    return str(path)


# ------------------------------------------------------------------ the importer
