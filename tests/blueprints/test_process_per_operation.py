"""One process per operation, as on a manager: nothing survives between operations.

The deployment is initialised with ``cfy init`` (no workflow runs), then every
operation of a container's life, and an action, is one ``cfy executions start
execute_operation`` (a process of its own: no API-version cache, no
remembered secrets, no open client can carry over). The outcome is the same
as the in-process run of the same operations.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cleanup import labelled_objects
from helpers.cloudify_local import REPO, Cfy, LocalRun

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
LIFECYCLE = 'cloudify.interfaces.lifecycle'
STEPS = [f'{LIFECYCLE}.create', f'{LIFECYCLE}.configure', f'{LIFECYCLE}.start',
         'docker.interfaces.container.exec', f'{LIFECYCLE}.check_drift', f'{LIFECYCLE}.stop',
         f'{LIFECYCLE}.delete']
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


def _blueprint(path: Path, secret: str) -> Path:
    path.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - {REPO / 'plugin.yaml'}
node_templates:
  c:
    type: cloudify.nodes.docker.Container
    properties:
      container_config:
        image: docker-plugin/busybox:latest
        command: [sh, -c, 'echo "key $KEY"; exec sleep 300']
        secret_environment: {{KEY: {secret}}}
      container_stop: {{timeout: 0}}
""")
    return path


def _kwargs(step: str) -> dict:
    return {'command': ['sh', '-c', 'echo "$KEY" | wc -c']} if step.endswith('.exec') else {}


def _summary(props: dict) -> dict:
    """What both runs must agree on (ids and times differ)."""
    return {'state': props.get('state'), 'exec_stdout': (props.get('exec') or {}).get(
        'data', {}).get('stdout'), 'drift': props.get('drift'),
        'keys': sorted(k for k in props if not k.startswith('_'))}


@pytest.mark.smoke
def test_each_operation_in_a_process_of_its_own(tmp_path, docker_client, unique):
    secret = f'key-{unique}-secret'
    blueprint = _blueprint(tmp_path / 'one.yaml', secret)
    cfy = Cfy(tmp_path / 'cfy')
    cfy.workdir.mkdir()
    cfy.init()
    separate = f'{unique}-sep'
    cfy('init', str(blueprint), '-b', separate)
    seen = []
    try:
        for step in STEPS:
            result = cfy('executions', 'start', 'execute_operation', '-b', separate, '-p',
                         json.dumps({'operation': step, 'node_ids': ['c'],
                                     'operation_kwargs': _kwargs(step),
                                     'allow_kwargs_override': True}), check=False)
            assert result.returncode == 0, f'{step}:\n{result.stdout[-3000:]}'
            assert secret not in result.stdout + result.stderr
            (instance,) = cfy.node_instances(separate)
            seen.append(_summary(instance['runtime_properties']))
            if step.endswith('.start'):
                container = docker_client.containers.get(
                    instance['runtime_properties']['container_id'])
                assert container.status == 'running'
                assert container.labels['cloudify.deployment'] == separate
    finally:
        cfy('executions', 'start', 'execute_operation', '-b', separate, '-p',
            json.dumps({'operation': f'{LIFECYCLE}.delete', 'node_ids': ['c']}), check=False)
    assert labelled_objects(docker_client, {'cloudify.deployment': separate}) == NOTHING

    # The same operations in one process give the same outcome.
    together = LocalRun(blueprint, f'{unique}-one', {})
    expected = []
    for step in STEPS:
        together.operation(step, ['c'], **_kwargs(step))
        expected.append(_summary(together.props('c')))
    assert seen == expected
    assert seen[3]['exec_stdout'].strip() == str(len(secret) + 1)  # it saw the value
    assert seen[4]['drift'] == []
    assert labelled_objects(docker_client, {'cloudify.deployment': f'{unique}-one'}) == NOTHING
