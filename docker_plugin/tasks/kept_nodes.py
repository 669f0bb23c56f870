"""An operation's node, read once per execution of a local workflow.

Cloudify hands an operation its node as a deep copy of the node's whole plan entry:
its properties and every operation of its type (28 KB for a Container, whose 35
operations are most of it). ``cfy``'s file storage first parses the deployment's whole
plan file for it (135 KB for one Container node). Measured at N=50 (install), that is
0.45 ms of CPU per operation in memory and 3 ms with ``cfy``'s storage, four or five
operations a container: the largest cost of a ``cfy`` run the plugin can avoid.

Within one execution of a local workflow, what an operation reads of its node cannot
change: a local run has no deployment update, and scaling changes only the number of
instances. So the first operation of an execution on a node reads it as Cloudify does,
and keeps its id, type, type hierarchy, properties and the rest of its plan entry (the
operations a seed-style node maps, its relationships: copied once, then only read). The
others of that execution in this process get a ``ctx`` whose ``node`` is that reading,
the properties deep-copied for each operation (read-only, as Cloudify's are). Anything
else (``number_of_instances``, which scaling changes) is read from the live node.

Only local runs keep anything (``confine.run_mode``): on a manager each operation is a
process of its own, its node read from the REST service with functions evaluated.
"""

from __future__ import annotations

import collections
import copy
import threading
import types
from typing import Any, Mapping

from docker_plugin.tasks.ctx import Ctx, Side

KEPT = 256  # (deployment, execution, node) readings a process keeps, the oldest dropped first
_KEPT: collections.OrderedDict[tuple[str, str, str], Reading] = collections.OrderedDict()
_LOCK = threading.Lock()


class Reading:
    """What an operation read of its node: the parts an execution cannot change."""

    __slots__ = ('id', 'name', 'plan', 'properties', 'type', 'type_hierarchy')

    def __init__(self, node: Any) -> None:
        self.id = node.id
        self.name = node.name
        self.type = node.type
        self.type_hierarchy = list(node.type_hierarchy or [])
        self.properties = copy.deepcopy(dict(node.properties))
        # the rest of the plan entry (operations, relationships, ...): copied once, read
        # by the execution's later operations, never changed (plan_entry hands it out)
        plan = {key: value for key, value in _live_entry(node).items() if key != 'properties'}
        self.plan: Mapping[str, Any] = types.MappingProxyType(copy.deepcopy(plan))


def _live_entry(node: Any) -> Mapping[str, Any]:
    """A node context's plan entry as Cloudify holds it, read if it was not yet."""
    getter = getattr(node, '_get_node_if_needed', None)
    if getter is not None:
        getter()
    entry = getattr(node, '_node', None)
    return entry if isinstance(entry, Mapping) else {}


def plan_entry(node: Any) -> Mapping[str, Any]:
    """A node context's plan entry (its ``operations``, ``relationships``, ...; not to be
    changed): the execution's reading for a kept node, else Cloudify's own, read when
    first needed. cloudify-common exposes neither publicly."""
    if isinstance(node, KeptNode):
        return node.plan
    return _live_entry(node)


class KeptNode:
    """The node of an operation whose execution read it before: the kept reading, the
    properties a copy of its own; whatever is not kept comes from the live node."""

    __slots__ = ('_live', '_reading', 'properties')

    def __init__(self, live: Any, reading: Reading) -> None:
        from cloudify.context import ImmutableProperties
        self._live = live
        self._reading = reading
        self.properties = ImmutableProperties(copy.deepcopy(reading.properties))

    @property
    def id(self) -> str:
        return str(self._reading.id)

    @property
    def name(self) -> str:
        return str(self._reading.name)

    @property
    def type(self) -> str:
        return str(self._reading.type)

    @property
    def type_hierarchy(self) -> list[str]:
        return list(self._reading.type_hierarchy)

    @property
    def plan(self) -> Mapping[str, Any]:
        """The node's plan entry but its properties, as the execution read it."""
        return self._reading.plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live, name)


class KeptContext:
    """An operation's ``ctx`` with its node as kept: every other attribute is the ctx's."""

    __slots__ = ('_ctx', 'node')

    def __init__(self, ctx: Any, node: KeptNode) -> None:
        self._ctx = ctx
        self.node = node

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def _key(ctx: Any, node: Any = None) -> tuple[str, str, str] | None:
    """(deployment, execution, node id) of ``node`` (None: the operation's own), for a
    node instance's operation in a real local run; None: nothing is kept."""
    try:
        if getattr(ctx, 'type', None) != 'node-instance':
            return None
        execution = str(getattr(ctx, 'execution_id', None) or '')
        deployment = str(getattr(ctx.deployment, 'id', None) or '')
        node_id = str((ctx.node if node is None else node).id or '')
    except Exception:  # noqa: BLE001 - a context without these keeps nothing
        return None
    if not (execution and deployment and node_id):
        return None
    from cloudify.endpoint import LocalEndpoint

    from docker_plugin.confinement import Mode
    from docker_plugin.tasks.confine import run_mode
    if not isinstance(getattr(ctx, '_endpoint', None), LocalEndpoint) or \
            run_mode(ctx) is not Mode.LOCAL:
        return None  # a manager's operation, or a test's mock context
    return deployment, execution, node_id


def _reading(ctx: Any, node: Any) -> Reading | None:
    key = _key(ctx, node)
    if key is None:
        return None
    with _LOCK:
        return _KEPT.get(key)


def operation_context(ctx: Ctx) -> Ctx:
    """``ctx`` for the operation about to run: with the node this execution read before
    (a local run), else ``ctx`` itself, its node read when first asked for."""
    if isinstance(ctx, KeptContext):
        return ctx
    reading = _reading(ctx, None)
    return ctx if reading is None else KeptContext(ctx, KeptNode(ctx.node, reading))


def node_of(ctx: Ctx | Side, node: Any) -> Any:
    """``node``, a node context of this deployment (a relationship's target), as this
    execution read it before, else ``node`` itself."""
    if isinstance(node, KeptNode):
        return node
    reading = _reading(ctx, node)
    return node if reading is None else KeptNode(node, reading)


def keep(ctx: Ctx, node: Any = None) -> None:
    """After an operation read ``node`` (None: its own) in a local run, keep what it read
    for the rest of its execution (nothing when it did not read it, or is not local)."""
    if isinstance(ctx, KeptContext) and node is None:
        return
    if isinstance(node, KeptNode):
        return
    key = _key(ctx, node)
    if key is None:
        return
    live = ctx.node if node is None else node
    if getattr(live, '_node', None) is None:
        return  # not read: reading it now would cost what keeping saves
    try:
        reading = Reading(live)
    except Exception:  # noqa: BLE001 - a node that cannot be read again is not kept
        return
    with _LOCK:
        _KEPT[key] = reading
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)


def forget_all() -> None:
    """Drop every kept reading (tests)."""
    with _LOCK:
        _KEPT.clear()
