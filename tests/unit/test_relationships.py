"""Relationship properties with intrinsic functions, through cloudify-common 7.0.5's
private objects (read in one module: docker_plugin.tasks.relationships)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from cloudify.workflows import local
from helpers.cloudify_local import resolver

from docker_plugin.tasks.relationships import with_inputs

REPO = Path(__file__).resolve().parents[2]


def test_the_supported_cloudify_common():
    # The private objects read in docker_plugin.tasks.relationships are these
    # versions' (ctx._endpoint, its storage's plan, node._node): a new version
    # must be checked against them before this pin moves.
    assert metadata.version('cloudify-common') == '7.0.5'


@pytest.mark.parametrize(('payload', 'expected'), [
    ({'aliases': [{'get_input': 'alias'}]}, {'aliases': ['web']}),
    ({'ip': {'get_input': ['net', 'ip']}}, {'ip': '10.0.0.5'}),
    ({'x': {'concat': [{'get_input': 'alias'}, '-1']}}, {'x': {'concat': ['web', '-1']}}),
    ({'x': {'get_input': 'unknown'}}, {'x': {'get_input': 'unknown'}}),
    ({'x': {'get_input': ['net', 'nope']}}, {'x': {'get_input': ['net', 'nope']}}),
    ({'x': {'get_attribute': ['n', 'a']}}, {'x': {'get_attribute': ['n', 'a']}}),
])
def test_get_input_is_resolved_from_every_input(payload, expected):
    inputs = {'alias': 'web', 'net': {'ip': '10.0.0.5'}}
    assert with_inputs(payload, inputs) == expected
    assert with_inputs(payload, None) == payload  # on a manager: left to the manager


def test_a_relationship_property_from_a_default_input_evaluates(tmp_path):
    """The case cloudify-common's local storage gets wrong on its own."""
    from cloudify.mocks import MockCloudifyContext  # noqa: F401 - the ctx comes from init_env
    blueprint = tmp_path / 'bp.yaml'
    blueprint.write_text(f"""tosca_definitions_version: cloudify_dsl_1_5
imports:
  - http://cloudify.co/spec/cloudify/7.0.0/types.yaml
  - {REPO / 'plugin.yaml'}
inputs:
  alias: {{default: by-default}}
node_templates:
  net: {{type: cloudify.nodes.Root}}
  web:
    type: cloudify.nodes.Root
    relationships:
      - type: cloudify.relationships.docker.connected_to_network
        target: net
        properties: {{aliases: [{{get_input: alias}}]}}
""")
    env = local.init_env(str(blueprint), name='rel', inputs={}, resolver=resolver())
    storage = env.storage
    # As the cfy CLI's file storage does: only the inputs given on the command line.
    storage.deployment['inputs'] = {}
    from cloudify.context import CloudifyContext
    from cloudify.state import current_ctx
    (instance,) = [i for i in storage.get_node_instances() if i.node_id == 'web']
    ctx = CloudifyContext({'node_id': instance.id, 'node_name': 'web',
                           'deployment_id': 'rel', 'blueprint_id': 'rel',
                           'local': True, 'storage': storage})
    with current_ctx.push(ctx):
        from docker_plugin.tasks.relationships import related
        ((_, properties),) = related(ctx, 'cloudify.relationships.docker.connected_to_network')
    assert properties['aliases'] == ['by-default']
