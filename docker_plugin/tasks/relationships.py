"""A node instance's relationships of a given type, with their properties.

cloudify-common exposes a relationship's type but neither its type hierarchy
(publicly) nor the properties the blueprint set on it; both are read from the
node's plan entry (``kept_nodes.plan_entry``), the same place cloudify-common
itself reads the hierarchy from, and intrinsic functions in the properties are
evaluated through the endpoint that evaluates operation inputs (locally and on
a manager). These private objects are read in ``kept_nodes.plan_entry``,
``evaluate`` and ``local_inputs`` only (``tests/unit/test_relationships.py`` pins them to
cloudify-common 7.0.5).
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import InvalidInputError
from docker_plugin.tasks.ctx import Ctx, Side
from docker_plugin.tasks.kept_nodes import plan_entry

# Properties every Cloudify relationship carries; not the plugin's to validate.
BASE_KEYS = ('connection_type',)


def related(ctx: Side, type_name: str) -> list[tuple[Any, dict[str, Any]]]:
    """This instance's relationships of ``type_name`` (or derived), with their properties."""
    out = []
    plan = _plan_relationships(ctx)
    for rel in ctx.instance.relationships:
        entry = next((r for r in plan if r.get('type') == rel.type
                      and r.get('target_id') == rel.target.node.id), None)
        hierarchy = (entry or {}).get('type_hierarchy') or [rel.type]
        if type_name in hierarchy:
            properties = dict((entry or {}).get('properties') or {})
            out.append((rel, evaluate(ctx, properties, f'relationship to {rel.target.node.id}')))
    return out


def own_properties(ctx: Ctx, type_name: str) -> dict[str, Any]:
    """In a relationship operation: the properties of this very relationship."""
    source = ctx.source
    plan = _plan_relationships(source)
    entry = next((r for r in plan if r.get('target_id') == ctx.target.node.id
                  and type_name in (r.get('type_hierarchy') or [r.get('type')])), None)
    properties = dict((entry or {}).get('properties') or {})
    return evaluate(ctx, properties, f'relationship to {ctx.target.node.id}')


def evaluate(ctx: Side | Ctx, properties: dict[str, Any], field: str) -> dict[str, Any]:
    """Relationship properties with intrinsic functions (get_input, ...) resolved.

    Raises:
        InvalidInputError: naming the relationship when a function cannot be evaluated.
    """
    if not any(isinstance(v, (dict, list)) for v in properties.values()):
        return properties
    endpoint = getattr(ctx, '_endpoint', None)
    if endpoint is None or not hasattr(endpoint, 'evaluate_functions'):
        return properties
    try:
        properties = with_inputs(properties, local_inputs(ctx))
        return dict(endpoint.evaluate_functions(payload=properties))
    except Exception as exc:  # noqa: BLE001 - the DSL evaluator raises many kinds
        raise InvalidInputError(field, f'its properties could not be evaluated: '
                                       f'{type(exc).__name__}: {exc}') from None


def local_inputs(ctx: Side | Ctx) -> Mapping[str, Any] | None:
    """In a local run, every deployment input with its value, defaults included.

    cloudify-common's local storage (7.0.5) evaluates ``get_input`` against the
    inputs given on the command line only, so an input left at its default
    fails there; the deployment plan holds them all. On a manager (which
    evaluates with every input itself) this is None.
    """
    storage = getattr(getattr(ctx, '_endpoint', None), 'storage', None)
    plan = getattr(storage, 'plan', None)
    inputs = plan.get('inputs') if isinstance(plan, Mapping) else None
    return inputs if isinstance(inputs, Mapping) else None


def with_inputs(payload: Any, inputs: Mapping[str, Any] | None) -> Any:
    """``payload`` with every ``get_input`` of a known input replaced by its value."""
    if inputs is None:
        return payload
    if isinstance(payload, list):
        return [with_inputs(item, inputs) for item in payload]
    if not isinstance(payload, Mapping):
        return payload
    if set(payload) == {'get_input'}:
        reference = payload['get_input']
        name, *path = reference if isinstance(reference, list) else [reference]
        if isinstance(name, str) and name in inputs:
            value = inputs[name]
            for step in path:
                try:
                    value = value[step]
                except (KeyError, IndexError, TypeError):
                    return payload  # let the evaluator say what is wrong
            return value
        return payload
    return {key: with_inputs(value, inputs) for key, value in payload.items()}


def _plan_relationships(ctx: Side) -> list[Mapping[str, Any]]:
    return list(plan_entry(ctx.node).get('relationships') or [])
