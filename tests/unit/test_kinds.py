"""The registry of node and relationship types (docker_plugin.kinds): every name it gives
leads to an operation, and nothing else in the package spells a type name."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from docker_plugin import kinds

PACKAGE = Path(__file__).resolve().parents[2] / 'docker_plugin'
OPERATIONS = [(entry, interface, op) for entry in kinds.NODES
              for interface, op in entry.operations()]


def _id(item):
    entry, interface, op = item
    return f'{entry.kind}.{interface.facade + "." if interface.facade else ""}{op.name}'


@pytest.mark.parametrize('item', OPERATIONS, ids=_id)
def test_every_operation_path_leads_to_its_implementation(item):
    """plugin.yaml's path (the kind's facade) and the implementation the registry names
    are the same function, wrapped as a Cloudify operation."""
    entry, interface, op = item
    module, _, name = entry.path(interface, op).rpartition('.')
    found = getattr(importlib.import_module(module), name)
    assert found is kinds.resolve(op.impl, entry.package)
    assert getattr(found, 'resumable', False) is True, 'not wrapped by tasks.operation'


@pytest.mark.parametrize('rel', kinds.RELATIONSHIPS, ids=lambda r: r.type_name)
def test_every_relationship_operation_leads_to_its_implementation(rel):
    for op in rel.source_ops:
        module, _, name = rel.path(op).rpartition('.')
        found = getattr(importlib.import_module(module), name)
        assert found is kinds.resolve(op.impl, rel.package)
        assert getattr(found, 'resumable', False) is True


def test_a_facade_offers_its_kinds_operations_and_nothing_else():
    container = importlib.import_module('docker_plugin.tasks.container')
    actions = importlib.import_module('docker_plugin.tasks.container.actions')
    assert 'create' in dir(container) and 'exec' in dir(actions) and 'exec' not in dir(container)
    with pytest.raises(AttributeError, match="no operation 'nope'"):
        container.nope  # noqa: B018


@pytest.mark.parametrize('entry', [e for e in kinds.NODES if e.kind != 'base'],
                         ids=lambda e: e.kind)
def test_every_node_kind_can_be_refreshed_and_checked(entry):
    """The pull and check_status workflows reach every node of a deployment."""
    names = {(interface.name, op.name) for interface, op in entry.operations()}
    assert (kinds.LIFECYCLE, 'pull') in names and (kinds.VALIDATION, 'check_status') in names
    # and validated before install: the whole deployment, by the same operation
    assert kinds.VALIDATE in [op for interface, op in entry.operations()
                              if interface.name == kinds.VALIDATION]


@pytest.mark.parametrize('entry', kinds.NODES, ids=lambda e: e.kind)
def test_what_validation_checks_of_a_kind_resolves(entry):
    """Every table, section and rule a kind's validation names exists; a rule tied to an
    operation names one of the kind's implementations."""
    from docker_plugin.options.base import OptionTable
    implementations = {op.impl for _, op in entry.operations()}
    for field in entry.validation.fields:
        table = kinds.table(field.table)
        assert isinstance(table, OptionTable)
        if field.sections:
            assert set(kinds.resolve(field.sections)) <= {o.section for o in table}
    for rule in entry.validation.rules:
        assert callable(kinds.resolve(rule.function, entry.package))
        assert not rule.when or rule.when in implementations, rule
    assert entry.kind == 'base' or entry.validation.fields or entry.kind == 'engine'


@pytest.mark.parametrize('rel', kinds.RELATIONSHIPS, ids=lambda r: r.type_name)
def test_every_relationship_leads_to_a_kind(rel):
    assert kinds.node(rel.target_kind).kind == rel.target_kind
    hierarchy = ['cloudify.relationships.depends_on', rel.type_name, 'my.derived']
    assert kinds.relationship_of(hierarchy) is rel
    assert kinds.relationship_of(['cloudify.relationships.depends_on']) is None


def test_an_operation_path_is_known_by_its_kind():
    assert kinds.implementation('docker_plugin.tasks.run') == (kinds.node('container'),
                                                              'lifecycle:run')
    assert kinds.implementation('docker_plugin.tasks.network.create') == (
        kinds.node('network'), 'lifecycle:create')
    assert kinds.implementation('docker_plugin.tasks.container.actions.exec') == (
        kinds.node('container'), 'commands:exec_command')
    assert kinds.implementation('docker_plugin.tasks.validate') is None
    assert kinds.implementation('docker_plugin.tasks.container.validate')[1] == \
        kinds.VALIDATE.impl
    assert kinds.of_operation('cloudify_docker.tasks.create') is None


def test_secret_finders_resolve_and_never_raise_on_bad_input():
    for find in kinds.all_secret_inputs().values():
        for junk in (None, 'text', 3, [1, {}], {'x': object()}):
            assert isinstance(find(junk), list)


def test_a_node_is_known_by_its_type_hierarchy():
    assert kinds.of_types(['cloudify.nodes.Root', 'cloudify.nodes.docker.Base',
                           'cloudify.nodes.docker.Container', 'my.Web']).kind == 'container'
    assert kinds.of_types('cloudify.nodes.docker.Secret').kind == 'secret'
    assert kinds.of_types(['cloudify.nodes.DBMS']) is None
    assert kinds.of_module('docker_plugin.tasks.service.commands').kind == 'service'
    assert kinds.of_module('docker_plugin.tasks.lifecycle') is None


def _spelled_type_names(path: Path) -> list[str]:
    """String constants in code (not docstrings) that spell a node or relationship type."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                id(node) not in docstrings and \
                any(prefix in node.value for prefix in (kinds.PREFIX_NODE,
                                                        kinds.PREFIX_RELATIONSHIP)):
            found.append(node.value)
    return found


@pytest.mark.parametrize('path', sorted(PACKAGE.rglob('*.py')),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_but_the_registry_spells_a_type_name(path):
    if path.name == 'kinds.py' and path.parent == PACKAGE:
        return
    assert _spelled_type_names(path) == []
