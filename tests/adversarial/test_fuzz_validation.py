"""The fuzz tier for validation before install: every field the registry says a kind's
validation checks (``kinds.NodeKind.validation``, Base's for every kind), fuzzed from
its option table.

The invariants: checked key by key (``OptionTable.problems``, which names every
mistake) a value has a mistake exactly when the operation's own check
(``OptionTable.validate``, which stops at the first) refuses it, and that refusal is
among them; each mistake names a field the value gave (or a required one it lacks),
and every wrong key is named (the keys no mistake names pass on their own);
and the whole deployment's validation of a node holding the value never escapes with
anything but its one failure, which lists each of those mistakes on that node. No
engine: the node's engine is a closed port.
"""

from __future__ import annotations

import pytest
from fuzzing import (
    SETTINGS,
    anything_but_a_dict,
    container_grammars,
    fields_of,
    names_a_field,
    table_dicts,
)
from helpers.mock_ctx import node_ctx
from hypothesis import given
from hypothesis import strategies as st

from docker_plugin import kinds
from docker_plugin.errors import InvalidDeploymentError, InvalidInputError, Mistake
from docker_plugin.options.comparisons import COMPARISON_MODES
from docker_plugin.options.container import CONTAINER
from docker_plugin.tasks import deployment, validation

pytestmark = [pytest.mark.fuzz]
DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}
GRAMMARS = container_grammars(CONTAINER.names(), COMPARISON_MODES)
# (kind, field) for every field a kind's validation names, Base's under each kind's own
FIELDS = [(entry, field) for entry in kinds.NODES
          for field in (*kinds.node('base').validation.fields, *entry.validation.fields)
          if entry.kind != 'base']


def _planned(entry: kinds.NodeKind, field: kinds.Field, raw) -> deployment.PlannedNode:
    properties = dict(raw) if not field.name else {field.name: raw}
    properties.setdefault('daemon_client', DOWN)
    return deployment.planned({
        'id': 'n', 'type_hierarchy': ['cloudify.nodes.Root', kinds.type_name('base'),
                                      entry.type_name],
        'properties': properties, 'relationships': [], 'number_of_instances': 1})


@pytest.mark.parametrize(('entry', 'field'), FIELDS,
                         ids=[f'{e.kind}-{f.name or f.table.rpartition(":")[2]}'
                              for e, f in FIELDS])
def test_every_mistake_of_a_field_is_named_before_install(entry, field):
    table = kinds.table(field.table)
    sections = tuple(kinds.resolve(field.sections)) if field.sections else None
    grammars = GRAMMARS if table is CONTAINER else None
    values = st.one_of(table_dicts(table, max_size=4, grammars=grammars),
                       anything_but_a_dict()) if field.name else \
        table_dicts(table, max_size=4, grammars=grammars)

    @SETTINGS
    @given(raw=values)
    def check(raw):
        try:
            table.validate(raw, field.name, sections)
            refusal = None
        except InvalidInputError as exc:
            refusal = str(exc)
        problems = [str(p) for p in table.problems(raw, field.name, sections)]
        if refusal is None:
            assert problems == [], problems
            return
        assert refusal in problems, (refusal, problems)
        fields = fields_of(field.name, raw, table)
        for problem in problems:
            assert names_a_field(problem, fields), (problem, fields)
        if isinstance(raw, dict):  # every one: what no mistake names holds on its own
            rest = {key: value for key, value in raw.items() if not any(
                names_a_field(problem, fields_of(field.name, {key: value}))
                for problem in problems)}
            table.validate(rest, field.name, sections, complete=False)
        # the deployment's validation lists each, on the node, and nothing escapes
        if not field.name or not deployment.given(raw):
            return  # a property nobody set is not validated; a typed node's undeclared
            # properties are refused by the DSL parser, so its own are all there is
        ctx = node_ctx('fuzz-validation')
        try:
            validation.conclude(ctx, validation.check(ctx, [_planned(entry, field, raw)]))
        except InvalidDeploymentError as exc:
            lines = {mistake.line(10 ** 6) for mistake in exc.mistakes}
        else:
            raise AssertionError(f'validation found nothing; the operation refuses: {refusal}')
        for problem in table.problems(raw, field.name, sections):
            assert Mistake.of('n', problem).line(10 ** 6) in lines or any(
                line.startswith(f'n.{problem.field}') for line in lines), (problem, lines)

    check()
