"""The Swarm node's ``nodes`` written by concurrent joins: the last write holds every
join (tests/blueprints/test_swarm.py shows it on three real engines)."""

from __future__ import annotations

from unittest import mock

import pytest

from docker_plugin.tasks.swarm import members as swarm_members


class StorageConflictError(Exception):
    """As cloudify.workflows.local raises when another write came first."""


class Conflict409(Exception):
    status_code = 409


class Instance:
    """A target node instance whose first ``conflicts`` writes lose to another's."""

    def __init__(self, conflicts: int, error: type[Exception] = StorageConflictError):
        self.runtime_properties: dict = {}
        self.conflicts, self.error = conflicts, error
        self.refreshed = self.written = 0
        self.stored: dict = {}

    def refresh(self, force: bool = False) -> None:
        assert force  # local changes are dropped: the list is read again after
        self.refreshed += 1
        self.runtime_properties = dict(self.stored)

    def update(self) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise self.error('version 3 does not match')
        self.written += 1
        self.stored = dict(self.runtime_properties)


def _api(*listings):
    api = mock.MagicMock()
    api.nodes.side_effect = [[{'ID': node, 'Status': {'State': 'ready'},
                               'Spec': {'Role': 'worker'}} for node in listing]
                             for listing in listings]
    return api


@pytest.mark.parametrize('error', [StorageConflictError, Conflict409])
def test_a_write_that_loses_reads_the_nodes_again_after_refetching(error):
    instance = Instance(conflicts=1, error=error)
    api = _api(['first', 'second'], ['first', 'second', 'third'])
    with mock.patch.object(swarm_members.time, 'sleep'):
        found = swarm_members.record_nodes(api, instance)
    assert [n['id'] for n in found] == ['first', 'second', 'third']
    assert [n['id'] for n in instance.stored['nodes']] == ['first', 'second', 'third']
    assert instance.refreshed == 2 and instance.written == 1


def test_other_failures_of_the_write_are_not_retried():
    instance = Instance(conflicts=1, error=ValueError)
    with pytest.raises(ValueError):
        swarm_members.record_nodes(_api(['first'], ['first']), instance)
    assert instance.written == 0


def test_writes_that_keep_losing_end_as_a_retry():
    from docker_plugin.errors import TransientError
    instance = Instance(conflicts=swarm_members.CONFLICT_ATTEMPTS)
    api = _api(*[['first']] * swarm_members.CONFLICT_ATTEMPTS)
    with mock.patch.object(swarm_members.time, 'sleep'), pytest.raises(TransientError):
        swarm_members.record_nodes(api, instance)
