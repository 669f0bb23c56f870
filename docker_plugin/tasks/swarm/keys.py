"""``docker.interfaces.swarm``: the Swarm node's join tokens and unlock key.

Both are secrets. They are remembered (masked in every log line, event and
error) the moment the engine hands them over, and never kept in runtime
properties or in an action's result, which Cloudify shows in its events.

``rotate_join_tokens`` makes new join tokens (``role``: worker, manager or
both): the old ones stop working; the plugin reads the current one whenever
an engine joins, so nothing needs to be handed on.

``unlock_key`` reads the swarm's unlock key (``rotate``: a new one first) and
hands it where a person can fetch it and nothing else shows it: a Cloudify
secret (``secret``: on a manager, hidden-value, its value replaced if it
exists; the key is then ``cfy secrets get <name>`` for whoever may read it),
or a file (``file``: mode 0600, replaced whole; on a manager confined to the
deployment's work directory, in a local run where the user says). A local run
has no secrets store, so there it takes ``file`` only. The result says where
the key went, never the key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from cloudify import manager

from docker_plugin import secrets
from docker_plugin.confinement import Mode
from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.swarm import ROTATE_TOKENS, UNLOCK_KEY
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.resources.swarm import cluster
from docker_plugin.tasks.confine import operation_context, run_mode, write_directory
from docker_plugin.tasks.context import engine, record_result, recorded
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation


def _inputs(table: Any, kwargs: Any) -> dict[str, Any]:
    return table.parse({name: kwargs[name] for name in table.names() if name in kwargs})


@operation
def rotate_join_tokens(ctx: Ctx, **kwargs: Any) -> dict[str, Any]:
    """New join tokens for ``role`` (worker, manager or both); the old ones stop working."""
    role = _inputs(ROTATE_TOKENS, kwargs)['role']
    roles = ('worker', 'manager') if role == 'both' else (role,)
    swarm_id = recorded(ctx, 'swarm_id', 'swarm')
    with engine(ctx, kwargs) as client:
        _same_swarm(client.api, swarm_id)
        rotated = cluster.rotate_join_tokens(client.api, roles, secrets.remember)
    if set(rotated) != set(roles):
        raise StateError(f'swarm {swarm_id[:12]} kept its {" and ".join(roles)} join token: '
                         'the rotation did not take')
    ctx.logger.info('Swarm %s: new %s join tokens; the old ones no longer work',
                    swarm_id[:12], ' and '.join(rotated))
    return record_result(ctx, 'join_tokens_rotated', 0,
                         f'new {" and ".join(rotated)} join tokens', {'roles': rotated})


@operation
def unlock_key(ctx: Ctx, **kwargs: Any) -> dict[str, Any]:
    """Hand the swarm's unlock key (``rotate``: a new one) to a Cloudify secret or a file."""
    given = _inputs(UNLOCK_KEY, kwargs)
    if not given['secret'] and not given['file']:
        raise InvalidInputError('secret', 'required (or file): where the unlock key goes; it '
                                          'is never shown')
    local = run_mode(operation_context(ctx)) is Mode.LOCAL
    if given['secret'] and local:
        raise InvalidInputError('secret', 'a local run has no Cloudify secrets store: give '
                                          'file (a path that receives the key, mode 0600)')
    target = _file_target(ctx, given['file']) if given['file'] else ''
    swarm_id = recorded(ctx, 'swarm_id', 'swarm')
    with engine(ctx, kwargs) as client:
        _same_swarm(client.api, swarm_id)
        key = cluster.unlock_key(client.api, secrets.remember, rotate=given['rotate'])
    if given['secret']:
        _to_secret(given['secret'], key)
        where = f'Cloudify secret {given["secret"]}'
    else:
        _to_file(target, key)
        where = f'file {target}'
    verb = 'a new unlock key (the old one no longer works)' if given['rotate'] else \
        'the unlock key'
    ctx.logger.info('Swarm %s: %s stored in %s', swarm_id[:12], verb, where)
    return record_result(ctx, 'unlock_key_stored', 0, f'{verb} stored in {where}', {
        'secret': given['secret'] or None, 'file': target or None,
        'rotated': given['rotate']})


def _same_swarm(api: EngineApi, swarm_id: str) -> None:
    info = cluster.inspect(api)
    if info is None or info.get('ID') != swarm_id:
        raise StateError(f'the engine no longer manages swarm {swarm_id[:12]}')


def _file_target(ctx: Ctx, given: str) -> str:
    """Where ``file`` is written (on a manager: in the deployment's work directory)."""
    directory, name = os.path.split(given)
    if not name or name in ('.', '..'):
        raise InvalidInputError('file', f'{given[:200]!r} names a directory: give a file')
    real = write_directory(ctx, directory or '.', 'file')
    if not os.path.isdir(real):
        raise InvalidInputError('file', f'{given[:200]!r}: its directory does not exist')
    target = os.path.join(real, name)
    if os.path.isdir(target):
        raise InvalidInputError('file', f'{given[:200]!r} is a directory: give a file')
    return target


def _to_file(target: str, key: str) -> None:
    """Write the key to ``target`` readable by its owner only, replacing it whole (a
    reader never sees half a key, a link at ``target`` is replaced, not followed)."""
    handle, temporary = tempfile.mkstemp(prefix='.unlock-key-', dir=os.path.dirname(target))
    try:
        with os.fdopen(handle, 'w') as out:  # mkstemp made it 0600
            out.write(key + '\n')
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _to_secret(name: str, key: str) -> None:
    """Store the key in the manager's secret ``name`` (hidden value; replaced if it
    exists), through the operation's REST client."""
    client = manager.get_rest_client()
    client.secrets.create(name, key, update_if_exists=True, is_hidden_value=True)
