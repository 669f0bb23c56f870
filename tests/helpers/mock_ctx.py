"""Mock Cloudify contexts for operations that read relationships and their properties.

``cloudify.mocks`` has no place for the properties a blueprint sets on a
relationship: the plugin reads them from the node's plan entry
(``docker_plugin.tasks.relationships``), so these contexts carry one, as
cloudify-common 7.0.5's node context does (``_get_node_if_needed``,
``_node.relationships``). Intrinsic functions are not evaluated here (there
is no endpoint that could): give plain values.
"""

from __future__ import annotations

import dataclasses
import types
import uuid
from typing import Any

from cloudify.mocks import (
    MockCloudifyContext,
    MockContext,
    MockNodeContext,
    MockNodeInstanceContext,
    MockRelationshipContext,
)
from cloudify.state import current_ctx

from docker_plugin import kinds

OPERATION = {'name': 'op', 'retry_number': 0, 'max_retries': 0}
NO_ENDPOINT = types.SimpleNamespace()  # nothing to evaluate intrinsic functions with


@dataclasses.dataclass
class Related:
    """One relationship of a node instance: its type, the target and its properties."""

    type: str
    target_node: str
    target_runtime: dict[str, Any]
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)
    target_properties: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The target node's type: by default the kind the relationship type leads to.
    target_type: str | None = None

    def node_type(self) -> str | None:
        if self.target_type is not None:
            return self.target_type
        try:
            return kinds.type_name(kinds.relationship(self.type).kind)
        except KeyError:
            return None

    def plan(self) -> dict[str, Any]:
        return {'type': self.type, 'target_id': self.target_node, 'type_hierarchy': [self.type],
                'properties': self.properties}

    def context(self) -> MockRelationshipContext:
        target = MockContext({'node': MockNodeContext(self.target_node, self.target_properties,
                                                      self.node_type()),
                              'instance': MockNodeInstanceContext(
                                  f'{self.target_node}_{uuid.uuid4().hex[:6]}',
                                  self.target_runtime)})
        return MockRelationshipContext(target, self.type)


def _with_plan(node: Any, related: list[Related]) -> Any:
    node._get_node_if_needed = lambda: None
    node._node = {'relationships': [r.plan() for r in related]}
    return node


def blueprint_endpoint(resources: str) -> Any:
    """What a manager's operation finds its blueprint's files by: the storage of an
    endpoint whose blueprint keeps its resources in ``resources``."""
    return types.SimpleNamespace(storage=types.SimpleNamespace(
        get_blueprint=lambda: {'resources': resources}))


def node_ctx(deployment: str, properties: dict[str, Any] | None = None,
             runtime: dict[str, Any] | None = None, related: list[Related] | None = None,
             node: str = 'n', retry: int = 0, *, instance: str | None = None,
             max_retries: int = 0, operation: str = 'op', blueprint: str = 'bp',
             tenant: dict[str, Any] | None = None, resources: dict[str, Any] | None = None,
             blueprint_dir: str | None = None) -> MockCloudifyContext:
    """A node-instance context (made current) whose relationships carry properties.

    Args:
        instance: the node instance's id (default ``<node>_<random>``).
        retry, max_retries, operation: the operation's retry number, retry limit, name.
        tenant, resources: as ``MockCloudifyContext`` takes them (``resources``: what
            ``ctx.get_resource`` returns by name).
        blueprint_dir: where the blueprint's files are, as a manager's endpoint says.
    """
    related = related or []
    ctx = MockCloudifyContext(
        node_id=instance or f'{node}_{uuid.uuid4().hex[:6]}', node_name=node,
        deployment_id=deployment, blueprint_id=blueprint, properties=properties or {},
        runtime_properties=runtime or {}, relationships=[r.context() for r in related],
        tenant=tenant, resources=resources,
        operation={'name': operation, 'retry_number': retry, 'max_retries': max_retries})
    _with_plan(ctx.node, related)
    ctx._endpoint = blueprint_endpoint(blueprint_dir) if blueprint_dir else NO_ENDPOINT
    current_ctx.set(ctx)
    return ctx


def relationship_ctx(deployment: str, source_properties: dict[str, Any], relationship: Related,
                     source_runtime: dict[str, Any] | None = None,
                     source_node: str = 'src') -> MockCloudifyContext:
    """A relationship-instance context (made current): the source node's plan holds
    ``relationship`` with its properties; the target is the relationship's."""
    source = MockContext({
        'node': _with_plan(MockNodeContext(source_node, source_properties), [relationship]),
        'instance': MockNodeInstanceContext(f'{source_node}_{uuid.uuid4().hex[:6]}',
                                            source_runtime if source_runtime is not None
                                            else {})})
    ctx = MockCloudifyContext(deployment_id=deployment, blueprint_id='bp', source=source,
                              target=relationship.context().target, operation=OPERATION)
    ctx._endpoint = NO_ENDPOINT
    current_ctx.set(ctx)
    return ctx
