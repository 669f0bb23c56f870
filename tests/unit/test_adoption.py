"""The create-or-adopt rule and the keep-or-remove rule, against the functions."""

from __future__ import annotations

import itertools

import pytest

from docker_plugin.adoption import Choice, decide, removes

CREATE, ADOPT, FAIL = Choice.CREATE, Choice.ADOPT, None

# (use_external_resource, create_if_missing, use_if_exists, exists) -> choice.
# Written out by hand from the README's rule, not computed.
EXPECTED = {
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


@pytest.mark.parametrize('flags', list(itertools.product((False, True), repeat=4)))
def test_decision(flags):
    decision = decide(*flags)
    assert decision.choice is EXPECTED[flags]
    assert bool(decision.problem) == (EXPECTED[flags] is None)


@pytest.mark.parametrize('flags', list(itertools.product((False, True), repeat=3)))
def test_what_this_instance_made_is_always_reused(flags):
    assert decide(*flags, exists=True, made_by_this_instance=True).choice is Choice.REUSE


def test_problems_say_what_to_do():
    assert 'use_if_exists' in decide(False, False, False, True).problem
    assert 'create_if_missing' in decide(True, False, False, False).problem


@pytest.mark.parametrize(('adopted', 'delete_adopted', 'retain', 'removed'), [
    (False, False, False, True),
    (False, True, False, True),
    (False, False, True, False),   # retain keeps what we made
    (True, False, False, False),   # adopted: left as found
    (True, True, False, True),     # unless told to remove it
    (True, True, True, False),     # retain still wins
])
def test_removal(adopted, delete_adopted, retain, removed):
    remove, why = removes(adopted, delete_adopted, retain)
    assert remove is removed and bool(why) == (not removed)
