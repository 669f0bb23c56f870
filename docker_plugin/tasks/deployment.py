"""The deployment's nodes as its blueprint planned them: what validation reads.

Where they are kept, by what cloudify-common 7.0.5 gives an operation:

* in a local run (``cfy`` local, ``init_env``) the operation's endpoint is a
  ``LocalEndpoint`` holding the local storage, whose ``get_nodes()`` returns
  every node of the deployment's plan;
* on a manager the REST client (``cloudify.manager.get_rest_client()``, the
  one the endpoint itself uses) lists them: ``nodes.list(deployment_id=...)``;
* a context with neither (``MockCloudifyContext``, which only tests make) has
  only its own node: ``own``.

Both give the same entries: id, type hierarchy, properties, operations (each
with its implementation and inputs), relationships (type hierarchy, target and
properties) and the number of instances. Intrinsic functions are left as they
are: ``get_input`` is evaluated when the deployment is made, while
``get_secret``, ``get_attribute`` and their kin are evaluated only when an
operation runs, so a value holding one is not known before (``unresolved``)
and is left out of what is validated.

``planned_ctx`` shows one planned node to the operations' own helpers as a
context would (``ctx.node``, its properties and relationships; no runtime
properties, no engine), so validation runs the very checks the operations run.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, MutableMapping, Sequence

from docker_plugin import kinds, records
from docker_plugin.tasks.ctx import Ctx, Deployment, Logger, Named, Operation
from docker_plugin.tasks.kept_nodes import plan_entry

INSTALL_OPERATIONS = tuple(f'{kinds.LIFECYCLE}.{name}' for name in (
    'precreate', 'create', 'configure', 'start', 'poststart', 'prestop', 'stop', 'delete',
    'postdelete'))
VALIDATION_CREATE = f'{kinds.VALIDATION}.create'
# {get_secret: x}, {concat: [...]}: a dictionary of one key naming a DSL function.
FUNCTION = re.compile(r'(get_\w+|concat|merge|string_\w+|evaluate_\w+)')
PAGE = 1000  # nodes per REST request
# tasks.confine reads the blueprint's files through the running operation's own context.
NO_FILES = 'a planned node reads no files: tasks.confine reads them for the operation'


@records.record(frozen=True)
class PlannedOperation:
    name: str                     # 'cloudify.interfaces.lifecycle.create'
    implementation: str           # 'docker_plugin.tasks.create'
    inputs: Mapping[str, Any]


@records.record(frozen=True)
class PlannedRelationship:
    type: str
    type_hierarchy: tuple[str, ...]
    target: str
    properties: Mapping[str, Any]

    def plan(self) -> dict[str, Any]:
        """As the node's plan entry holds it (what ``tasks.relationships`` reads)."""
        return {'type': self.type, 'type_hierarchy': list(self.type_hierarchy),
                'target_id': self.target, 'properties': dict(self.properties)}


@records.record(frozen=True)
class PlannedNode:
    id: str
    type_hierarchy: tuple[str, ...]
    properties: Mapping[str, Any]
    operations: tuple[PlannedOperation, ...]
    relationships: tuple[PlannedRelationship, ...]
    instances: int

    @property
    def type(self) -> str:
        return self.type_hierarchy[-1] if self.type_hierarchy else ''

    @property
    def kind(self) -> kinds.NodeKind | None:
        """Its kind when its type is one of the plugin's."""
        return kinds.of_types(self.type_hierarchy)

    def plugin_kinds(self) -> list[kinds.NodeKind]:
        """The kinds whose operations it runs: its type's, or (seed style: another type
        whose lifecycle maps the plugin's tasks) those its operations lead to."""
        if self.kind is not None:
            return [self.kind]
        found: dict[str, kinds.NodeKind] = {}
        for operation in self.operations:
            entry = kinds.of_operation(operation.implementation)
            if entry is not None:
                found.setdefault(entry.kind, entry)
        return list(found.values())

    def install_operations(self, entry: kinds.NodeKind | None = None
                           ) -> list[PlannedOperation]:
        """Its lifecycle operations mapped to the plugin's tasks (of ``entry`` only)."""
        found = []
        for operation in self.operations:
            kind = kinds.of_operation(operation.implementation)
            if operation.name in INSTALL_OPERATIONS and kind is not None and \
                    (entry is None or kind.kind == entry.kind):
                found.append(operation)
        return found

    def runs(self, entry: kinds.NodeKind, implementation: str) -> bool:
        """Whether it runs the operation of ``entry`` implemented by ``implementation``
        ('': any): a node of the kind's type runs them all."""
        if not implementation or (self.kind is not None and self.kind.kind == entry.kind):
            return True
        for operation in self.install_operations(entry):
            found = kinds.implementation(operation.implementation)
            if found is not None and found[1] == implementation:
                return True
        return False

    def inputs(self, entry: kinds.NodeKind | None = None) -> dict[str, Any]:
        """The inputs its install operations are given (the first given wins), known
        ones only."""
        merged: dict[str, Any] = {}
        for operation in self.install_operations(entry):
            for name, value in operation.inputs.items():
                if value is not None:
                    merged.setdefault(name, value)
        return merged

    def given(self, name: str, entry: kinds.NodeKind | None = None
              ) -> list[tuple[Any, str]]:
        """Every value ``name`` is given, with where: '' for the property, else the
        operation whose input it is ('configure')."""
        found: list[tuple[Any, str]] = []
        if given(self.properties.get(name)):
            found.append((self.properties[name], ''))
        for operation in self.install_operations(entry):
            value = operation.inputs.get(name)
            if given(value) and all(value != seen for seen, _ in found):
                found.append((value, operation.name.rpartition('.')[2]))
        return found


# ------------------------------------------------------------------ reading
def read(ctx: Ctx) -> list[PlannedNode] | None:
    """Every node of the operation's deployment, or None when nothing holds them.

    Raises:
        Exception: what the REST client raises on a manager (the wrapper classifies it:
            a manager that does not answer is retried).
    """
    endpoint = getattr(ctx, '_endpoint', None)
    storage = getattr(endpoint, 'storage', None)
    if storage is not None and hasattr(storage, 'get_nodes'):
        return [planned(node) for node in storage.get_nodes()]
    if not _on_manager(endpoint):
        return None
    from cloudify import manager
    client = manager.get_rest_client()
    return [planned(node) for node in _every(client.nodes.list,
                                             deployment_id=str(ctx.deployment.id))]


def instance_states(ctx: Ctx) -> dict[str, str] | None:
    """The state of every instance of the operation's node, in one call (the local
    storage, or one paged REST list on a manager); None when nothing holds them.

    Raises:
        Exception: what the REST client raises on a manager.
    """
    endpoint = getattr(ctx, '_endpoint', None)
    storage = getattr(endpoint, 'storage', None)
    node_id = str(ctx.node.id)
    if storage is not None and hasattr(storage, 'get_node_instances'):
        return {str(ni.id): str(ni.state) for ni in storage.get_node_instances(node_id=node_id)}
    if not _on_manager(endpoint):
        return None
    from cloudify import manager
    client = manager.get_rest_client()
    return {str(ni.id): str(ni.state) for ni in _every(
        client.node_instances.list, deployment_id=str(ctx.deployment.id), node_id=node_id,
        _include=['id', 'state'])}


def _on_manager(endpoint: Any) -> bool:
    from cloudify.endpoint import ManagerEndpoint
    return isinstance(endpoint, ManagerEndpoint)


def _every(list_call: Any, **filters: Any) -> list[Any]:
    """Every item of a paginated REST list."""
    items: list[Any] = []
    while True:
        page = list_call(_offset=len(items), _size=PAGE, **filters)
        items += list(page)
        try:
            total = int(page.metadata.pagination.total)
        except (AttributeError, TypeError, ValueError):
            return items
        if not len(page) or len(items) >= total:
            return items


def planned(node: Mapping[str, Any]) -> PlannedNode:
    """A node entry of the plan (a local storage's or the REST service's)."""
    operations = []
    for name, spec in (node.get('operations') or {}).items():
        if '.' not in name or not isinstance(spec, Mapping):
            continue  # the short names repeat the full ones
        implementation = str(spec.get('operation') or '')
        if not implementation.startswith('docker_plugin.'):
            continue  # not one of the plugin's tasks
        operations.append(PlannedOperation(name, implementation,
                                           known(dict(spec.get('inputs') or {}))))
    relationships = tuple(
        PlannedRelationship(str(rel.get('type') or ''),
                            tuple(rel.get('type_hierarchy') or [rel.get('type') or '']),
                            str(rel.get('target_id') or ''),
                            known(dict(rel.get('properties') or {})))
        for rel in node.get('relationships') or [] if isinstance(rel, Mapping))
    counts = [node.get(key) for key in ('number_of_instances', 'planned_number_of_instances')]
    return PlannedNode(
        id=str(node.get('id') or ''), type_hierarchy=tuple(node.get('type_hierarchy') or
                                                            [node.get('type') or '']),
        properties=known(dict(node.get('properties') or {})),
        operations=tuple(operations), relationships=relationships,
        instances=max([int(n) for n in counts if isinstance(n, int)] or [1]))


def own(ctx: Ctx) -> PlannedNode:
    """The operation's own node, from its context (where no deployment can be read)."""
    node = ctx.node
    plan = plan_entry(node)
    return planned({
        'id': node.id, 'type_hierarchy': getattr(node, 'type_hierarchy', None) or [node.type],
        'properties': dict(node.properties),
        'relationships': plan.get('relationships') or [],
        'number_of_instances': getattr(node, 'number_of_instances', 1) or 1})


def first_install_operation(node: Any) -> str | None:
    """The first of a node's install operations (from its context's plan entry) that
    runs the plugin's validation or one of its kinds' operations; None when the node maps
    none, or maps validation's create (which then comes first)."""
    operations = plan_entry(node).get('operations') or {}
    validation = operations.get(VALIDATION_CREATE) or {}
    if str(validation.get('operation') or '').startswith('docker_plugin.'):
        return None
    for name in INSTALL_OPERATIONS:
        implementation = str((operations.get(name) or {}).get('operation') or '')
        if kinds.of_operation(implementation) is not None:
            return name
    return None


def given(value: Any) -> bool:
    """A value the blueprint gave: not null, and not an empty text, list or dictionary
    (the defaults of properties nobody set)."""
    return value is not None and not (isinstance(value, (str, list, dict)) and not value)


def is_function(value: Any) -> bool:
    """``{get_secret: x}``: a dictionary of one key naming an intrinsic function."""
    return isinstance(value, Mapping) and len(value) == 1 and \
        bool(FUNCTION.fullmatch(str(next(iter(value)))))


def unresolved(value: Any) -> bool:
    """Whether ``value`` holds an intrinsic function still to be evaluated."""
    if is_function(value):
        return True
    if isinstance(value, Mapping):
        return any(unresolved(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(unresolved(item) for item in value)
    return False


def known(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without what is known only when an operation runs: a value that is an
    intrinsic function, or a key of a dictionary value whose value holds one
    (``container_config: {name: {get_secret: n}}`` keeps the rest of container_config)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if not unresolved(value):
            out[name] = value
        elif isinstance(value, Mapping) and not is_function(value):
            out[name] = {key: item for key, item in value.items() if not unresolved(item)}
    return out


# ------------------------------------------------------------------ as a context
@records.record
class _Node:
    id: str
    properties: Mapping[str, Any]
    type: str
    type_hierarchy: list[str]
    number_of_instances: int
    _node: Mapping[str, Any]

    def _get_node_if_needed(self) -> None:
        """As cloudify-common's node context: the plan entry is there already."""


@records.record
class _Instance:
    id: str
    runtime_properties: MutableMapping[str, Any]
    relationships: Sequence[Any]

    def update(self) -> None:
        """Nothing is recorded of a planned node."""


@records.record
class _Side:
    node: _Node
    instance: _Instance


@records.record
class _Relationship:
    type: str
    target: _Side


@records.record
class PlannedContext:
    """One planned node as an operation's helpers read a context: its node and
    relationships as planned, nothing recorded; the rest is the running operation's."""

    node: _Node
    instance: _Instance
    operation_ctx: Ctx
    type: str = 'node-instance'

    @property
    def source(self) -> Any:
        raise AttributeError('a planned node is not a relationship')

    @property
    def target(self) -> Any:
        raise AttributeError('a planned node is not a relationship')

    @property
    def deployment(self) -> Deployment:
        return self.operation_ctx.deployment

    @property
    def blueprint(self) -> Named:
        return self.operation_ctx.blueprint

    @property
    def logger(self) -> Logger:
        return self.operation_ctx.logger

    @property
    def operation(self) -> Operation:
        return self.operation_ctx.operation

    def download_resource(self, resource_path: str, target_path: str | None = None) -> str:
        raise NotImplementedError(NO_FILES)

    def download_directory(self, resource_path: str, target_path: str | None = None) -> str:
        raise NotImplementedError(NO_FILES)


def _as_node(node: PlannedNode) -> _Node:
    return _Node(node.id, dict(node.properties), node.type, list(node.type_hierarchy),
                 node.instances, {'relationships': [rel.plan() for rel in node.relationships]})


def planned_ctx(ctx: Ctx, node: PlannedNode, nodes: Mapping[str, PlannedNode]) -> PlannedContext:
    """``node`` as a context (see the module); its relationships lead to the planned
    nodes ``nodes`` holds by id (an unknown target: a node without properties)."""
    relationships = []
    for rel in node.relationships:
        target = nodes.get(rel.target) or PlannedNode(rel.target, (), {}, (), (), 1)
        relationships.append(_Relationship(rel.type, _Side(_as_node(target), _Instance(
            f'{target.id}_planned', {}, ()))))
    return PlannedContext(_as_node(node), _Instance(f'{node.id}_planned', {}, relationships),
                          ctx)


def by_id(nodes: Iterable[PlannedNode]) -> dict[str, PlannedNode]:
    return {node.id: node for node in nodes}
