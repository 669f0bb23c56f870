"""Adopting what is already on the swarm (``use_external_resource``): the object's
id is recorded, every later operation finds it, and uninstall leaves it."""

from __future__ import annotations

import json

import pytest
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks.service import lifecycle as service
from docker_plugin.tasks.swarm import lifecycle as swarm_tasks

pytestmark = [pytest.mark.engine]
COMMAND = 'trap "exit 0" TERM; while true; do sleep 1; done'


def _ctx(unique, properties, node='n'):
    return node_ctx(unique, properties, node=node)


def test_an_adopted_swarm_records_its_id(swarm, unique):
    ctx = _ctx(unique, {'daemon_client': swarm.manager.daemon_client(),
                        'use_external_resource': True}, node='swarm')
    swarm_tasks.create(ctx=ctx)
    swarm_id = json.loads(swarm.manager.docker('info', '--format', '{{json .Swarm.Cluster.ID}}'))
    props = ctx.instance.runtime_properties
    assert props['adopted'] is True and props['swarm_id'] == swarm_id
    swarm_tasks.check_status(ctx=ctx)
    swarm_tasks.delete(ctx=ctx)
    assert swarm.manager.swarm_state() == 'active'


def test_an_adopted_service_records_its_id_and_is_kept(swarm, unique):
    manager = swarm.manager
    service_id = manager.docker('service', 'create', '--detach', '--name', unique, '--label',
                                f'cloudify.deployment={unique}', '--endpoint-mode', 'dnsrr',
                                swarm.ref('app:v1'), 'sh', '-c', COMMAND)
    ctx = _ctx(unique, {'daemon_client': manager.daemon_client(), 'name': unique,
                        'use_external_resource': True,
                        'service_config': {'image': swarm.ref('app:v1')}}, node='svc')
    service.create(ctx=ctx)
    props = ctx.instance.runtime_properties
    assert props['adopted'] is True and props['service_id'] == service_id
    service.start(ctx=ctx, converge={"timeout": 60})
    service.check_status(ctx=ctx)
    service.delete(ctx=ctx)
    assert manager.docker('service', 'ls', '-q', '--filter', f'name={unique}') == service_id[:12]
