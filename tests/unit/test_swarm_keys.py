"""The Swarm node's actions (docker.interfaces.swarm) without an engine: join tokens
rotated and the unlock key handed to a file or a Cloudify secret, none of them in a log,
a runtime property or a result. ``tests/integration/test_swarm_nodes.py`` does the same on
the three-engine lab, and ``tests/adversarial/test_canaries_swarm.py`` looks everywhere.
"""

from __future__ import annotations

import logging
import os
import stat
from unittest import mock

import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.fakes import fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.swarm import ROTATE_TOKENS, UNLOCK_KEY
from docker_plugin.tasks.swarm import keys

DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 1}


def test_unlock_key_inputs_take_one_destination():
    with pytest.raises(InvalidInputError, match='not both') as failure:
        UNLOCK_KEY.parse({'secret': 'k', 'file': '/tmp/k'})
    assert failure.value.field == 'file'
    with pytest.raises(InvalidInputError) as failure:
        UNLOCK_KEY.parse({'secret': 'no spaces'})
    assert failure.value.field == 'secret'
    with pytest.raises(InvalidInputError) as failure:
        ROTATE_TOKENS.parse({'role': 'all'})
    assert failure.value.field == 'role'


TOKENS = {'Worker': 'SWMTKN-1-worker-old-0123456789', 'Manager': 'SWMTKN-1-manager-old-0123'}
KEY = 'SWMKEY-1-unlock-old-0123456789abcdef'


class FakeManager:
    """A manager whose swarm rotates its tokens and unlock key."""

    api_version = '1.41'

    def __init__(self, autolock: bool = True):
        self.tokens, self.key, self.version = dict(TOKENS), KEY, 5
        self.autolock = autolock
        self.sent: list[dict] = []

    def inspect_swarm(self):
        return {'ID': 'swarm-1', 'Version': {'Index': self.version}, 'JoinTokens':
                dict(self.tokens), 'Spec': {'EncryptionConfig': {
                    'AutoLockManagers': self.autolock}}}

    def update_swarm(self, version, swarm_spec=None, rotate_worker_token=False,
                     rotate_manager_token=False, rotate_manager_unlock_key=False):
        assert version == self.version and swarm_spec is not None
        self.sent.append(swarm_spec)
        self.version += 1
        if rotate_worker_token:
            self.tokens['Worker'] = self.tokens['Worker'].replace('old', 'new')
        if rotate_manager_token:
            self.tokens['Manager'] = self.tokens['Manager'].replace('old', 'new')
        if rotate_manager_unlock_key:
            self.key = self.key.replace('old', 'new')
        return True

    def get_unlock_key(self):
        return {'UnlockKey': self.key}


def _swarm_ctx():
    return node_ctx('dep', properties={'daemon_client': DOWN}, runtime={'swarm_id': 'swarm-1'},
                    node='swarm')


@pytest.mark.parametrize(('role', 'rotated'), [('worker', ['worker']),
                                               ('both', ['worker', 'manager'])])
def test_rotating_join_tokens_keeps_them_out_of_everything(role, rotated, caplog):
    caplog.set_level(logging.DEBUG)
    manager = FakeManager()
    ctx = _swarm_ctx()
    with fake_engine(manager):
        returned = keys.rotate_join_tokens(ctx=ctx, role=role)
    assert returned == {'roles': rotated}
    assert manager.sent == [{'EncryptionConfig': {'AutoLockManagers': True}}]  # spec kept
    assert ('new' in manager.tokens['Manager']) is (role == 'both')
    seen = repr(dict(ctx.instance.runtime_properties)) + caplog.text
    for token in [*TOKENS.values(), *manager.tokens.values()]:
        assert token not in seen


def test_unlock_key_goes_to_a_private_file_and_nowhere_else(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    manager = FakeManager()
    ctx = _swarm_ctx()
    target = tmp_path / 'unlock.key'
    target.symlink_to(tmp_path / 'elsewhere')  # replaced, not followed
    with fake_engine(manager):
        returned = keys.unlock_key(ctx=ctx, file=str(target), rotate=True)
    assert returned == {'secret': None, 'file': str(target), 'rotated': True}
    assert target.read_text() == manager.key + '\n' and manager.key != KEY
    assert not target.is_symlink() and not (tmp_path / 'elsewhere').exists()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ['unlock.key']
    seen = repr(dict(ctx.instance.runtime_properties)) + caplog.text
    assert KEY not in seen and manager.key not in seen and 'stored in file' in caplog.text


def test_unlock_key_goes_to_a_cloudify_secret_on_a_manager(caplog):
    manager = FakeManager()
    ctx = _swarm_ctx()
    client = mock.MagicMock()
    with fake_engine(manager), \
            mock.patch.object(keys, 'run_mode', return_value=keys.Mode.MANAGER), \
            mock.patch('cloudify.manager.get_rest_client', return_value=client):
        returned = keys.unlock_key(ctx=ctx, secret='swarm_unlock_key')
    client.secrets.create.assert_called_once_with('swarm_unlock_key', KEY,
                                                  update_if_exists=True, is_hidden_value=True)
    assert returned == {'secret': 'swarm_unlock_key', 'file': None, 'rotated': False}
    assert KEY not in caplog.text + repr(dict(ctx.instance.runtime_properties))


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({}, '^secret: required'),
    ({'secret': 'k'}, '^secret: a local run has no Cloudify secrets store'),
    ({'file': '/no/such/dir/key'}, "^file: '/no/such/dir/key': its directory does not exist"),
    ({'file': '/tmp/'}, '^file: .* names a directory'),
])
def test_unlock_key_needs_somewhere_to_go(kwargs, message):
    with fake_engine(FakeManager()), pytest.raises(NonRecoverableError, match=message):
        keys.unlock_key(ctx=_swarm_ctx(), **kwargs)


def test_a_swarm_that_does_not_lock_has_no_unlock_key(tmp_path):
    with fake_engine(FakeManager(autolock=False)), \
            pytest.raises(NonRecoverableError, match='autolock_managers is off'):
        keys.unlock_key(ctx=_swarm_ctx(), file=str(tmp_path / 'key'))
    assert list(tmp_path.iterdir()) == []
