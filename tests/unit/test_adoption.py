"""The create-or-adopt rule, as a truth table over every input combination."""

from __future__ import annotations

import itertools

import pytest

from docker_plugin.adoption import Action, decide

CREATE, ADOPT, REUSE, FAIL = Action.CREATE, Action.ADOPT, Action.REUSE, None

# (use_external_resource, create_if_missing, use_if_exists, exists) -> action
TABLE = {
    (False, False, False, False): CREATE,
    (False, False, False, True): FAIL,     # a stranger's object with our name
    (False, False, True, False): CREATE,
    (False, False, True, True): ADOPT,
    (False, True, False, False): CREATE,   # create_if_missing alone changes nothing
    (False, True, False, True): FAIL,
    (False, True, True, False): CREATE,
    (False, True, True, True): ADOPT,
    (True, False, False, False): FAIL,     # must exist
    (True, False, False, True): ADOPT,
    (True, False, True, False): FAIL,
    (True, False, True, True): ADOPT,
    (True, True, False, False): CREATE,
    (True, True, False, True): ADOPT,
    (True, True, True, False): CREATE,
    (True, True, True, True): ADOPT,
}


def test_table_covers_every_combination():
    assert set(TABLE) == set(itertools.product((False, True), repeat=4))


@pytest.mark.parametrize(('flags', 'expected'), sorted(TABLE.items()))
def test_decision(flags, expected):
    decision = decide(*flags)
    assert decision.action is expected
    assert bool(decision.problem) == (expected is None)


@pytest.mark.parametrize('flags', list(itertools.product((False, True), repeat=3)))
def test_what_this_instance_made_is_always_reused(flags):
    assert decide(*flags, exists=True, made_by_this_instance=True).action is REUSE


def test_problems_say_what_to_do():
    assert 'use_if_exists' in decide(False, False, False, True).problem
    assert 'create_if_missing' in decide(True, False, False, False).problem
