"""Secrets and configs the swarm refuses fail naming the property the swarm judged."""

from __future__ import annotations

import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.mock_ctx import node_ctx

from docker_plugin.tasks import swarm_objects

pytestmark = [pytest.mark.engine]


@pytest.mark.parametrize(('kind', 'properties', 'field'), [
    ('secret', {'driver': 'no-such-driver'}, 'driver: the engine refused the secret'),
    ('secret', {'name': 'x' * 70}, 'name: the engine refused the secret'),
    ('config', {'file': '/dev/zero'}, "file: '/dev/zero' is not a readable file"),
])
def test_what_the_swarm_refuses_names_the_property(swarm, unique, kind, properties, field):
    ctx = node_ctx(unique, properties={'daemon_client': swarm.manager.daemon_client(),
                                       'data': 'a value', **properties}, node=kind)
    if 'file' in properties:
        del ctx.node.properties['data']
    with pytest.raises(NonRecoverableError) as failure:
        getattr(swarm_objects, f'{kind}_create')(ctx=ctx)
    assert str(failure.value).startswith(field), str(failure.value)
    getattr(swarm_objects, f'{kind}_delete')(ctx=ctx)
    assert swarm.manager.docker(kind, 'ls', '-q', '--filter',
                                f'label=cloudify.deployment={unique}') == ''
