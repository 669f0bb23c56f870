"""Secret canaries through the swarm: values that must never be seen, put in every
swarm input that holds one, through every swarm operation and action.

* the swarm's join tokens (read from the lab once the plugin formed it),
* a Secret's ``data`` (and the new value a deployment update gives it), which
  the service's tasks print from ``/run/secrets`` (the old value is checked up to
  the update: after it, it is known nowhere, and the logs of tasks that ran
  before can show it),
* a Service's ``secret_env`` value, which its tasks print too,
* a remote engine's TLS client key (a single-node swarm on the TLS engine),
* the join tokens before and after ``rotate_join_tokens``, and the unlock key before
  and after ``unlock_key`` rotates it (through the SwarmNode operations too).

Every log record at every level (the SDK's and urllib3's too), everything
the mock context printed (what a workflow's events show), every runtime
property, every exception text and every file left in the test's temp
directory, the temp directory and the repository's ``.cache`` is searched:
zero hits. Failures that would naturally quote the secret (an update whose
tasks print it and exit, a broken TLS key) are among the operations.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.leftovers import files_holding
from helpers.mock_ctx import Related, node_ctx

from docker_plugin import kinds
from docker_plugin.tasks import swarm_node, swarm_objects
from docker_plugin.tasks.service import commands as service_actions
from docker_plugin.tasks.service import lifecycle as service
from docker_plugin.tasks.swarm import keys as swarm_keys
from docker_plugin.tasks.swarm import lifecycle as swarm_tasks

pytestmark = [pytest.mark.engine, pytest.mark.canary]
REPO = Path(__file__).resolve().parents[2]
BASE = 'docker-plugin/busybox:latest'
SECRET_REL = kinds.relationship('uses_secret').type_name
LOOP = 'trap "exit 0" TERM; while true; do sleep 1; done'
PRINTS = 'echo "key=$API_KEY"; echo "file=$(cat /run/secrets/tok)"'


class Sightings:
    """Everything the plugin wrote, to be searched for canaries."""

    def __init__(self, caplog: Any, capsys: Any, skip: list[Path]):
        self.caplog, self.capsys, self.skip = caplog, capsys, skip
        self.texts: list[str] = []

    def error(self, call: Any, *args: Any, **kwargs: Any) -> str:
        """Run a call that must fail; keep its message."""
        with pytest.raises((NonRecoverableError, RecoverableError)) as failure:
            call(*args, **kwargs)
        self.texts.append(str(failure.value))
        return str(failure.value)

    def props(self, *contexts: Any) -> None:
        for ctx in contexts:
            self.texts.append(json.dumps(dict(ctx.instance.runtime_properties), default=str))

    def assert_unseen(self, canaries: list[str], roots: list[Path]) -> None:
        records = [f'{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ""}'
                   for r in self.caplog.records]
        printed = self.capsys.readouterr()
        self.texts += [printed.out, printed.err]
        everything = '\n'.join(records + self.texts)
        assert len(self.caplog.records) > 20, 'little was logged: the search would prove nothing'
        assert any(r.name.startswith('urllib3') for r in self.caplog.records)
        for canary in canaries:
            for piece in {canary, canary[:24], canary[-24:]}:
                assert piece not in everything, f'{piece!r} leaked'
            assert not files_holding(canary, roots, self.skip), 'a file holds a secret'


@pytest.fixture
def sightings(caplog, capsys, tmp_path, tmp_path_factory):
    caplog.set_level(logging.DEBUG)
    for name in ('urllib3', 'docker', 'requests'):
        logging.getLogger(name).setLevel(logging.DEBUG)
    base = tmp_path_factory.getbasetemp()
    skip = [p for p in base.iterdir() if p != tmp_path.parent] if base.is_dir() else []
    yield Sightings(caplog, capsys, [*skip, base])
    for name in ('urllib3', 'docker', 'requests'):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _roots(tmp_path: Path) -> list[Path]:
    return [tmp_path, REPO / '.cache', Path(os.environ.get('TMPDIR', '/tmp'))]


def _canary(kind: str) -> str:
    return f'canary-{kind}-{uuid.uuid4().hex}'


def test_tokens_secrets_and_secret_env_through_every_swarm_operation(
        swarm_lab, unique, sightings, tmp_path):
    lab = swarm_lab
    lab.ensure_unformed()
    first, *others = lab.engines
    daemon = first.daemon_client()
    secret_value, new_secret_value, env_value = (_canary('data'), _canary('data2'),
                                                 _canary('env'))
    the_swarm = node_ctx(unique, node='swarm', properties={
        'daemon_client': daemon,
        'swarm_config': {'advertise_addr': first.address, 'subnet_size': 28,
                         'default_addr_pool': [f'10.253.{lab.tag}.0/24'],
                         'dispatcher_heartbeat_period': '2s'},
        'workers': [{'daemon_client': e.daemon_client(), 'advertise_addr': e.address}
                    for e in others]})
    made: list[Any] = []
    tokens: list[str] = []
    try:
        swarm_tasks.create(ctx=the_swarm)
        swarm_tasks.start(ctx=the_swarm)
        tokens = [first.docker('swarm', 'join-token', '-q', role) for role in
                  ('worker', 'manager')]
        assert all(t.startswith('SWMTKN-') for t in tokens)
        swarm_tasks.check_status(ctx=the_swarm)
        swarm_tasks.check_drift(ctx=the_swarm)
        swarm_tasks.pull(ctx=the_swarm)

        secret = node_ctx(unique, node='tok', properties={
            'daemon_client': daemon, 'name': f'{unique}-tok', 'data': secret_value})
        config = node_ctx(unique, node='page', properties={
            'daemon_client': daemon, 'name': f'{unique}-page', 'data': 'not secret'})
        made += [secret, config]
        swarm_objects.secret_create(ctx=secret)
        swarm_objects.config_create(ctx=config)
        swarm_objects.secret_check_status(ctx=secret)
        swarm_objects.secret_check_drift(ctx=secret)
        swarm_objects.secret_pull(ctx=secret)

        def service_config(**extra: Any) -> dict[str, Any]:
            return {'image': lab.ref('app:v1'), 'command': ['sh', '-c', f'{PRINTS}; {LOOP}'],
                    'endpoint_mode': 'dnsrr', 'stop_grace_period': '1s', 'replicas': 2,
                    'secret_env': {'API_KEY': env_value},
                    'update_config': {'parallelism': 2, 'monitor': '1s',
                                      'failure_action': 'rollback'},
                    'rollback_config': {'parallelism': 2, 'monitor': '1s'}, **extra}

        related = [Related(SECRET_REL, 'tok', dict(secret.instance.runtime_properties),
                           {'target': 'tok'}, dict(secret.node.properties))]
        svc = node_ctx(unique, node='svc', related=related, properties={
            'daemon_client': daemon, 'name': unique, 'service_config': service_config(),
            'converge': {'timeout': 90}})
        made.insert(0, svc)
        service.create(ctx=svc)
        service.start(ctx=svc)
        service.check_status(ctx=svc)
        service.check_drift(ctx=svc)
        service.pull(ctx=svc)
        text = service_actions.logs(ctx=svc, tail=1000)
        assert 'key=******' in text and 'file=' in text, text  # printed, and masked
        service_actions.ps(ctx=svc)
        service_actions.scale(ctx=svc, replicas=3)
        service.update(ctx=svc, service_config=service_config(image=lab.ref('app:v2')))
        service_actions.rollback(ctx=svc)
        # An update whose tasks print both secrets and exit: the failure quotes their logs.
        failing = service_config(command=['sh', '-c', f'{PRINTS}; exit 3'])
        message = sightings.error(service.update, ctx=svc, service_config=failing)
        assert 'key=******' in message, message
        sightings.props(svc)
        # Everything so far knew the secret's value. Once it is replaced, the value is
        # known nowhere (never kept): the logs of tasks that ran before can still show it.
        sightings.props(the_swarm, secret, config, svc)
        sightings.assert_unseen([secret_value], _roots(tmp_path))
        # A new value for the secret, as a deployment update gives it: a new version of
        # the secret, the service moved to it (and its tasks print the new value).
        made.remove(secret)
        secret = node_ctx(unique, node='tok', runtime=dict(secret.instance.runtime_properties),
                          properties={**secret.node.properties, 'data': new_secret_value})
        made.append(secret)
        swarm_objects.secret_update(ctx=secret)
        swarm_objects.config_update(ctx=config, data='still not secret')
        made.remove(svc)
        related = [Related(SECRET_REL, 'tok', dict(secret.instance.runtime_properties),
                           {'target': 'tok'}, dict(secret.node.properties))]
        svc = node_ctx(unique, node='svc', related=related, runtime=dict(
            svc.instance.runtime_properties), properties=dict(svc.node.properties))
        made.insert(0, svc)
        text = service_actions.logs(ctx=svc, tail=1000)
        assert 'file=******' in text, text
        sightings.props(the_swarm, secret, config, svc)
    finally:
        for ctx in made:
            from cloudify.state import current_ctx
            current_ctx.set(ctx)
            {'svc': service.delete, 'tok': swarm_objects.secret_delete,
             'page': swarm_objects.config_delete}[ctx.node.name](ctx=ctx)
        swarm_tasks.delete(ctx=the_swarm)
    sightings.props(the_swarm, *made)
    assert {e.swarm_state() for e in lab.engines} == {'inactive'}
    sightings.assert_unseen([*tokens, new_secret_value, env_value],
                            _roots(tmp_path))


def test_tls_keys_of_a_remote_engine_through_a_swarm(remote_tls_engine, unique, sightings,
                                                     tmp_path):
    engine = remote_tls_engine
    daemon = engine.daemon_client()
    key_lines = [line for line in daemon['client_key'].splitlines() if '-----' not in line]
    the_swarm = node_ctx(unique, node='swarm', properties={
        'daemon_client': daemon,
        'swarm_config': {'advertise_addr': engine.address, 'subnet_size': 28,
                         'default_addr_pool': [f'10.254.{engine.tag}.0/24']}})
    svc = node_ctx(unique, node='svc', properties={
        'daemon_client': daemon, 'name': unique, 'converge': {'timeout': 60},
        'service_config': {'image': BASE, 'resolve_image': 'never', 'endpoint_mode': 'dnsrr',
                           'command': ['sh', '-c', LOOP], 'stop_grace_period': '1s'}})
    try:
        swarm_tasks.create(ctx=the_swarm)
        swarm_tasks.start(ctx=the_swarm)
        swarm_tasks.check_status(ctx=the_swarm)
        service.create(ctx=svc)
        service.start(ctx=svc)
        service_actions.logs(ctx=svc)
        service_actions.ps(ctx=svc)
        broken = {**daemon, 'client_key': daemon['client_key'].replace(key_lines[3],
                                                                        key_lines[4])}
        sightings.error(service.check_status, ctx=svc, daemon_client=broken)
        sightings.error(swarm_tasks.check_drift, ctx=the_swarm, daemon_client=broken)
        sightings.props(the_swarm, svc)
    finally:
        from cloudify.state import current_ctx
        current_ctx.set(svc)
        service.delete(ctx=svc)
        current_ctx.set(the_swarm)
        swarm_tasks.delete(ctx=the_swarm)
        import subprocess
        subprocess.run([*engine.cli(), 'swarm', 'leave', '--force'], capture_output=True,
                       timeout=60)
    sightings.props(the_swarm, svc)
    sightings.assert_unseen(key_lines[1:-1], _roots(tmp_path))


def test_a_secret_that_is_a_word_of_the_names(swarm, unique):
    """A Secret and a Service named ``<...>-admin`` whose secret values are ``admin``: the
    names recorded are the real ones, status and drift are right, update and delete work."""
    daemon = swarm.engines[0].daemon_client()
    name = f'{unique}-admin'
    secret = node_ctx(unique, node='admin', properties={
        'daemon_client': daemon, 'name': name, 'data': 'admin'})
    swarm_objects.secret_create(ctx=secret)
    made = [secret]
    try:
        assert secret.instance.runtime_properties['base_name'] == name
        assert secret.instance.runtime_properties['secret_name'].startswith(f'{name}-')
        swarm_objects.secret_check_drift(ctx=secret)
        assert secret.instance.runtime_properties['drift'] == []

        def service_config(replicas: int) -> dict[str, Any]:
            return {'image': swarm.ref('app:v1'), 'command': ['sh', '-c', LOOP],
                    'endpoint_mode': 'dnsrr', 'stop_grace_period': '1s',
                    'replicas': replicas, 'secret_env': {'ADMIN_PASSWORD': 'admin'},
                    'labels': {'role': 'admin'}}

        related = [Related(SECRET_REL, 'admin', dict(secret.instance.runtime_properties),
                           {'target': 'admin'}, dict(secret.node.properties))]
        svc = node_ctx(unique, node='admin_svc', related=related, properties={
            'daemon_client': daemon, 'name': name, 'service_config': service_config(1),
            'converge': {'timeout': 90}})
        made.insert(0, svc)
        service.create(ctx=svc)
        service.start(ctx=svc)
        props = svc.instance.runtime_properties
        assert props['service_name'] == name and props['image'].startswith(swarm.ref('app:v1'))
        service.check_status(ctx=svc)
        assert service.check_drift(ctx=svc) == []
        service.update(ctx=svc, service_config=service_config(2))
        assert svc.instance.runtime_properties['drift'] == []
        text = service_actions.logs(ctx=svc, tail=10)
        assert 'admin' not in text.replace(name, '')
    finally:
        from cloudify.state import current_ctx
        for ctx in made:
            current_ctx.set(ctx)
            {'admin_svc': service.delete, 'admin': swarm_objects.secret_delete}[
                ctx.node.name](ctx=ctx)
    manager = swarm.engines[0]
    assert manager.docker('service', 'ls', '-q', '--filter', f'name={name}').strip() == ''
    assert manager.docker('secret', 'ls', '-q', '--filter', f'name={name}').strip() == ''


def test_join_tokens_and_unlock_keys_through_the_swarm_actions_and_nodes(
        swarm, unique, sightings, tmp_path):
    """The Swarm node's actions read and rotate join tokens and the unlock key, and the
    SwarmNode operations run on the same swarm: the tokens (before and after rotation)
    and both unlock keys are in no log, event, runtime property, error, result or file
    but the one the key was asked into (read, then removed, before the search)."""
    manager = swarm.manager
    daemon = manager.daemon_client()
    canaries = [manager.docker('swarm', 'join-token', '-q', role)
                for role in ('worker', 'manager')]
    the_swarm = node_ctx(unique, node='swarm', properties={
        'daemon_client': daemon, 'use_external_resource': True})
    node = node_ctx(unique, node='swarm_node', properties={
        'daemon_client': daemon, 'node': swarm.engines[1].name, 'availability': 'drain',
        'labels': {'zone': unique}, 'role': 'manager'})
    key_file = tmp_path / 'unlock.key'
    try:
        swarm_tasks.create(ctx=the_swarm)
        sightings.texts.append(json.dumps(swarm_keys.rotate_join_tokens(ctx=the_swarm)))
        canaries += [manager.docker('swarm', 'join-token', '-q', role)
                     for role in ('worker', 'manager')]
        sightings.error(swarm_keys.unlock_key, ctx=the_swarm, file=str(key_file))  # no autolock
        manager.docker('swarm', 'update', '--autolock=true')
        for rotate in (False, True):
            sightings.texts.append(json.dumps(swarm_keys.unlock_key(
                ctx=the_swarm, file=str(key_file), rotate=rotate)))
            canaries.append(key_file.read_text().strip())
            assert canaries[-1] == manager.docker('swarm', 'unlock-key', '-q')
            key_file.unlink()
        sightings.error(swarm_keys.unlock_key, ctx=the_swarm, secret='swarm-unlock')  # local
        swarm_tasks.check_status(ctx=the_swarm)
        swarm_tasks.pull(ctx=the_swarm)
        for op in (swarm_node.create, swarm_node.check_status, swarm_node.check_drift,
                   swarm_node.update, swarm_node.pull):
            current_ctx.set(node)
            op(ctx=node)
        current_ctx.set(node)
        swarm_node.delete(ctx=node)
    finally:
        manager.docker('swarm', 'update', '--autolock=false')
        current_ctx.set(the_swarm)
        swarm_tasks.delete(ctx=the_swarm)
        manager.docker('node', 'update', '--availability', 'active', '--label-rm', 'zone',
                       swarm.engines[1].name, check=False)
        manager.docker('node', 'demote', swarm.engines[1].name, check=False)
    assert len(set(canaries)) == 6 and all(c.startswith('SWM') for c in canaries)
    assert not key_file.exists()
    sightings.props(the_swarm, node)
    sightings.assert_unseen(canaries, _roots(tmp_path))
