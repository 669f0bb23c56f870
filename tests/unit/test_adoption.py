"""The create-or-adopt rule and the keep-or-remove rule, against the functions."""

from __future__ import annotations

import itertools

import pytest

from docker_plugin.adoption import Choice, Maker, decide, removes

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
    assert decide(*flags, exists=True, made_by=Maker.INSTANCE).choice is Choice.REUSE


@pytest.mark.parametrize('flags', list(itertools.product((False, True), repeat=3)))
def test_what_an_earlier_run_of_the_node_made_is_always_claimed(flags):
    """An install run again (after a failure, an interruption, or its state lost): what
    this deployment's node made and no instance holds is this deployment's, whatever the
    flags (it was made, never adopted: uninstall removes it)."""
    assert decide(*flags, exists=True, made_by=Maker.EARLIER_RUN).choice is Choice.CLAIM


@pytest.mark.parametrize('flags', list(itertools.product((False, True), repeat=4)))
def test_what_the_deployment_holds_elsewhere_follows_the_flags(flags):
    """Another node's object, or a live instance's: never claimed; adopted only when the
    flags say so, as a stranger's would be, and the refusal names who holds it."""
    decision = decide(*flags, made_by=Maker.HELD, holder='node net (instance net_a1)')
    assert decision.choice is EXPECTED[flags]
    if decision.choice is None and flags[3]:
        assert 'node net (instance net_a1) of this deployment holds it' in decision.problem
        assert 'give each node its own name' in decision.problem


@pytest.mark.parametrize('maker', list(Maker))
def test_nothing_to_claim_or_reuse_when_nothing_exists(maker):
    assert decide(False, False, False, False, maker).choice is Choice.CREATE


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
