"""Secret canaries: a value that must never be seen, in every secret-bearing input,
through every operation and action. Every log record at every level (the
SDK's and urllib3's too), every event a workflow prints, every runtime
property, every exception text and every file left in the temp directory is
searched for it: zero hits.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.leftovers import files_holding
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.tasks.container import commands as container_commands
from docker_plugin.tasks.container import controls as container_actions
from docker_plugin.tasks.container import lifecycle as container_state
from docker_plugin.tasks.image import lifecycle as image_tasks

pytestmark = [pytest.mark.engine, pytest.mark.canary]
BASE = 'docker-plugin/busybox:latest'


class Sightings:
    """Everything the plugin wrote, to be searched for canaries."""

    def __init__(self, caplog):
        self.caplog = caplog
        self.texts: list[str] = []

    def error(self, call, *args, **kwargs):
        """Run a call that must fail; keep its message."""
        with pytest.raises((NonRecoverableError, RecoverableError)) as failure:
            call(*args, **kwargs)
        self.texts.append(str(failure.value))
        return str(failure.value)

    def props(self, ctx):
        self.texts.append(json.dumps(dict(ctx.instance.runtime_properties), default=str))

    def assert_unseen(self, *canaries, extra: str = ''):
        records = [f'{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ""}'
                   for r in self.caplog.records]
        everything = '\n'.join(records + self.texts + [extra])
        assert self.caplog.records, 'nothing was logged: the search would prove nothing'
        for canary in canaries:
            for piece in {canary, canary[:24], canary[-24:]}:
                assert piece not in everything, f'{piece!r} leaked'
        for canary in canaries:
            assert not files_holding(canary), 'a file left behind holds a secret'


@pytest.fixture
def sightings(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ('urllib3', 'docker', 'requests'):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return Sightings(caplog)


def _ctx(unique, properties, node='c'):
    return node_ctx(unique, properties, node=node)


def test_secret_environment_through_every_operation_and_action(sightings, unique, labelled,
                                                               tmp_path):
    canary = f'canary-env-{uuid.uuid4().hex}'
    short = 'xq7'  # a short secret: masked where it stands as a word
    config = {'image': BASE, 'labels': labelled,
              'command': ['sh', '-c', 'env; echo "key=$API_KEY pin=$PIN"; sleep 300'],
              'secret_environment': {'API_KEY': canary, 'PIN': short}}
    ctx = _ctx(unique, {'container_config': config, 'container_stop': {'timeout': 0},
                        'wait_for': {'condition': 'log', 'pattern': 'key=.*', 'timeout': 20}})
    try:
        tasks.create(ctx=ctx)
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        container_state.check_status(ctx=ctx)
        container_state.check_drift(ctx=ctx)
        changed = {**config, 'secret_environment': {'API_KEY': canary + '-changed', 'PIN': short}}
        sightings.error(container_state.update, ctx=ctx, container_config=changed)
        container_state.pull(ctx=ctx)
        for action in (container_actions.inspect, container_actions.top,
                       container_actions.stats):
            action(ctx=ctx)
        container_actions.logs(ctx=ctx, tail='all')
        container_commands.exec_command(ctx=ctx, command=['sh', '-c', 'env; echo $API_KEY >&2'])
        sightings.error(container_commands.exec_command, ctx=ctx, expected_exit_code=0,
                        command=['sh', '-c', 'echo "$API_KEY" >&2; exit 3'])
        sightings.error(container_commands.exec_command, ctx=ctx, timeout=1,
                        command=['sh', '-c', 'echo "$API_KEY"; sleep 20'])
        container_actions.restart(ctx=ctx, stop_timeout=0,
                                  wait_for={'condition': 'log', 'pattern': 'key=', 'timeout': 20})
        sightings.error(container_commands.wait, ctx=ctx, timeout=1)
        container_actions.stop(ctx=ctx, stop_timeout=0)
        sightings.props(ctx)
        tasks.stop(ctx=ctx)
    finally:
        tasks.delete(ctx=ctx)
    sightings.props(ctx)
    sightings.assert_unseen(canary)
    logged = '\n'.join(r.getMessage() for r in sightings.caplog.records)
    assert f'pin={short}' not in logged and 'pin=******' in logged
    assert 'key=******' in logged  # the container printed it; the plugin masked it


def test_seed_style_operations_learn_the_secret_from_the_engine(sightings, unique, labelled):
    """secret_environment given only to configure: run and the actions still mask it."""
    canary = f'canary-seed-{uuid.uuid4().hex}'
    ctx = _ctx(unique, {})
    config = {'image': BASE, 'labels': labelled, 'secret_environment': {'TOKEN': canary},
              'command': ['sh', '-c', 'echo "token $TOKEN"; exit 4']}
    try:
        tasks.configure(ctx=ctx, container_config=config)
        tasks.run(ctx=ctx, wait_for={'condition': 'exited', 'exit_code': 4, 'timeout': 20})
        container_actions.logs(ctx=ctx)
        sightings.props(ctx)
    finally:
        tasks.delete(ctx=ctx)
    sightings.assert_unseen(canary)


def test_registry_credentials(sightings, registry, unique, tmp_path, docker_client):
    wrong = f'canary-pw-{uuid.uuid4().hex}'
    (tmp_path / 'Dockerfile').write_text(f'FROM {BASE}\nRUN echo {unique} > /stamp\n')
    repo = f'{registry.address}/canary/{unique}'
    builder = _ctx(unique, {'image_build': {'path': str(tmp_path)},
                            'push': {'repository': repo, 'tag': '1', 'auth': registry.auth}},
                   node='img')
    try:
        image_tasks.create(ctx=builder)
        image_tasks.push(ctx=builder)
        puller = _ctx(unique, {'image_pull': {'repository': repo, 'tag': '1',
                                              'auth': registry.auth, 'policy': 'always'}},
                      node='pull')
        image_tasks.create(ctx=puller)
        image_tasks.check_drift(ctx=puller)
        image_tasks.pull(ctx=puller)
        sightings.props(puller)
        image_tasks.delete(ctx=puller)
        bad = _ctx(unique, {'image_pull': {'repository': repo, 'tag': '1', 'policy': 'always',
                                           'auth': {**registry.auth, 'password': wrong}}},
                   node='bad')
        sightings.error(image_tasks.create, ctx=bad)
        bad_push = _ctx(unique, {'image_build': {'path': str(tmp_path)},
                                 'push': {'repository': repo, 'tag': '2',
                                          'auth': {**registry.auth, 'password': wrong}}},
                        node='badpush')
        image_tasks.create(ctx=bad_push)
        sightings.error(image_tasks.push, ctx=bad_push)
        sightings.props(bad_push)
        image_tasks.delete(ctx=bad_push)
        sightings.props(builder)
    finally:
        current_ctx.set(builder)
        image_tasks.delete(ctx=builder)
    sightings.assert_unseen(registry.password, wrong)


def test_tls_keys_of_a_remote_engine(sightings, unique, remote_tls_engine):
    daemon = remote_tls_engine.daemon_client()
    key_lines = [line for line in daemon['client_key'].splitlines() if '-----' not in line]
    ctx = _ctx(unique, {'daemon_client': daemon,
                        'container_config': {'image': BASE, 'command': ['sleep', '60']},
                        'container_stop': {'timeout': 0}})
    try:
        tasks.create(ctx=ctx)
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        container_actions.inspect(ctx=ctx)
        container_commands.exec_command(ctx=ctx, command='true')
        sightings.error(tasks.configure, ctx=ctx, daemon_client={
            **daemon, 'client_key': daemon['client_key'].replace(key_lines[3], key_lines[4])})
        sightings.props(ctx)
    finally:
        tasks.delete(ctx=ctx)
    sightings.assert_unseen(*key_lines[1:-1])
