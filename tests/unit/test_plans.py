"""Plans: what ``update`` does with each drift entry (in place, recreate, refuse and why),
the preview that shows them without changing anything, and compose drift by service and
key (issue 19, item 5)."""

from __future__ import annotations

import json

import pytest
from cloudify.exceptions import NonRecoverableError
from helpers.mock_ctx import node_ctx

from docker_plugin import kinds, plans
from docker_plugin.errors import InvalidInputError, StateError
from docker_plugin.options.base import Update
from docker_plugin.plans import Action, Plan
from docker_plugin.resources.compose import state as compose_state
from docker_plugin.resources.drift import Difference
from docker_plugin.tasks import lifecycle
from docker_plugin.tasks.container import lifecycle as container_tasks
from docker_plugin.tasks.volume import lifecycle as volume_tasks

pytestmark = pytest.mark.unit
S = kinds.UpdateStrategy
SECRET = 's3cr3t-value-never-shown'


def _diff(option: str, update: Update, plan: Plan | None = None) -> Difference:
    return Difference(option, option, 'declared', 'found', update, plan)


# ------------------------------------------------------------------ one plan per entry
@pytest.mark.parametrize('strategy, update, action', [
    (S.IN_PLACE, Update.UPDATE_CALL, Action.IN_PLACE),
    (S.IN_PLACE, Update.RENAME, Action.IN_PLACE),
    (S.IN_PLACE, Update.RECREATE, Action.REFUSE),
    (S.RECREATE_UNUSED, Update.RECREATE, Action.RECREATE),
    (S.REFUSE, Update.RECREATE, Action.REFUSE),
    (S.REFUSE, Update.UPDATE_CALL, Action.REFUSE),   # a volume changes nothing in place
    (S.ROLLING, Update.SERVICE, Action.IN_PLACE),
    (S.ROLLING, Update.RECREATE, Action.REFUSE),
    (S.NEW_VERSION, Update.NEW_VERSION, Action.RECREATE),
    (S.COMPOSE_UP, Update.RECREATE, Action.RECREATE),
    (S.REFRESH, Update.RECREATE, Action.RECREATE),
    (S.NONE, Update.RECREATE, Action.REFUSE),
])
def test_each_update_mode_has_its_plan_under_each_strategy(strategy, update, action):
    plan = plans.of(strategy, update, 'thing')
    assert plan.action is action
    assert plan.sentence().startswith({Action.IN_PLACE: 'update changes it in place: ',
                                       Action.RECREATE: 'update makes it again: ',
                                       Action.REFUSE: 'update refuses: '}[action])
    if action is Action.REFUSE:
        assert plan.why  # a refusal says why, and what to do instead


def test_a_volume_refusal_says_the_data_would_be_lost_and_what_to_do():
    plan = plans.of(S.REFUSE, Update.RECREATE, 'volume')
    assert plan.sentence() == ('update refuses: a volume made again would lose its data: give '
                               'the changed options to a new volume node (or reinstall, if the '
                               'data may go)')


def test_all_or_nothing_one_refusal_holds_back_every_entry_and_is_named_alone():
    found = lifecycle.planned(S.IN_PLACE, 'container', [
        _diff('memory', Update.UPDATE_CALL), _diff('image', Update.RECREATE)])
    memory, image = found
    assert memory.plan.action is Action.REFUSE and memory.plan.blocked
    assert memory.plan.sentence() == ('update refuses: image cannot change on this container, '
                                      "so update changes nothing (on its own: in place, the "
                                      "engine's update call)")
    assert image.plan.action is Action.REFUSE and not image.plan.blocked
    # The refusal names the option that refused, not the one it held back.
    said = plans.refusal((d.option, d.plan) for d in found)
    assert said.startswith('image changed: only a new container can take it')
    assert 'memory' not in said


def test_without_a_refusal_in_place_entries_stay_in_place():
    (memory,) = lifecycle.planned(S.IN_PLACE, 'container', [_diff('memory', Update.UPDATE_CALL)])
    assert memory.plan == Plan(Action.IN_PLACE, "the engine's update call")
    assert plans.refusal([('memory', memory.plan)]) == ''
    lifecycle.refuse([memory])  # nothing refused: update goes on


def test_a_plan_the_kind_gave_is_kept():
    own = Plan(Action.IN_PLACE, 'compose up removes the extra containers')
    (entry,) = lifecycle.planned(S.COMPOSE_UP, 'compose project',
                                 [_diff('services.web', Update.RECREATE, own)])
    assert entry.plan is own


def test_an_adopted_object_is_refused_as_a_whole_unless_modify_external_resource():
    objects = container_tasks.OBJECTS
    ctx = node_ctx('d', runtime={'adopted': True})
    (entry,) = lifecycle.plan(ctx, {}, objects, [_diff('memory', Update.UPDATE_CALL)])
    assert entry.plan.action is Action.REFUSE
    with pytest.raises(StateError, match='memory changed: the container was adopted: set '
                                         'modify_external_resource'):
        lifecycle.refuse([entry])
    (allowed,) = lifecycle.plan(ctx, {'modify_external_resource': True}, objects,
                                [_diff('memory', Update.UPDATE_CALL)])
    assert allowed.plan.action is Action.IN_PLACE


def test_an_entry_with_its_plan_reads_and_records_it():
    entry = _diff('memory', Update.UPDATE_CALL, plans.of(S.IN_PLACE, Update.UPDATE_CALL, 'c'))
    assert entry.describe() == ("memory (memory): declared 'declared', found 'found'; update "
                                "changes it in place: the engine's update call")
    assert entry.as_dict()['action'] == 'in_place'
    assert entry.as_dict()['plan'] == "update changes it in place: the engine's update call"


def test_a_refusal_that_does_not_fail_update_is_left_as_it_is():
    plan = Plan(Action.REFUSE, '', 'set remove_orphans', fails=False)
    assert plan.sentence() == 'update leaves it: set remove_orphans'
    assert plans.label(plan) == 'left as they are'
    assert plans.refusal([('services.old', plan)]) == ''


# ------------------------------------------------------------------ the preview
def _preview_ctx():
    return node_ctx('d', runtime={'volume_name': 'data', 'volume_id': 'data'})


def test_preview_shows_the_plan_and_never_runs_update(caplog):
    ran = []
    found = [_diff('driver', Update.RECREATE)]

    @lifecycle.preview(volume_tasks.OBJECTS, lambda ctx, kwargs: lifecycle.planned(
        S.REFUSE, 'volume', found))
    def update(ctx, **kwargs):
        ran.append(kwargs)
        return 'updated'

    ctx = _preview_ctx()
    with caplog.at_level('INFO'):
        shown = update(ctx=ctx, preview=True)
    assert ran == []
    assert [entry['action'] for entry in shown] == ['refuse']
    assert 'drift' not in ctx.instance.runtime_properties  # a preview records nothing
    said = caplog.text
    assert 'Update preview of the volume data (nothing changed): 1 refused' in said
    assert 'driver (driver): declared' in said
    assert 'update would fail: driver changed: a volume made again would lose its data' in said
    # Without preview (or preview false) it is update, and preview is not passed on.
    assert update(ctx=ctx, preview=False, other=1) == 'updated'
    assert update(ctx=ctx) == 'updated'
    assert ran == [{'other': 1}, {}]


def test_preview_of_nothing_drifted_says_update_changes_nothing(caplog):
    @lifecycle.preview(volume_tasks.OBJECTS, lambda ctx, kwargs: [])
    def update(ctx, **kwargs):
        raise AssertionError('update ran')

    with caplog.at_level('INFO'):
        assert update(ctx=_preview_ctx(), preview=True) == []
    assert 'no drift; update changes nothing' in caplog.text


@pytest.mark.parametrize('value', ['yes', 1, [True], {'x': 1}])
def test_preview_that_is_not_a_flag_is_refused_naming_it(value):
    @lifecycle.preview(volume_tasks.OBJECTS, lambda ctx, kwargs: [])
    def update(ctx, **kwargs):
        raise AssertionError('update ran')

    with pytest.raises((InvalidInputError, NonRecoverableError),
                       match=r'^preview: expected true or false'):
        update(ctx=_preview_ctx(), preview=value)


def test_every_update_in_the_registry_takes_a_preview():
    # Read before anything the kind reads: a preview that is no flag is refused naming it.
    for entry in kinds.NODES:
        for interface, op in entry.operations():
            if op.name == 'update' and not interface.facade:
                function = kinds.resolve(op.impl, entry.package)
                with pytest.raises(NonRecoverableError, match=r'^preview: expected true or '
                                                              'false'):
                    function(ctx=node_ctx('d'), preview='maybe')
    for relationship in kinds.RELATIONSHIPS:
        for op in relationship.source_ops:
            if op.name == 'update':
                function = kinds.resolve(op.impl, relationship.package)
                with pytest.raises(NonRecoverableError, match=r'^preview: expected true or '
                                                              'false'):
                    function(ctx=node_ctx('d'), preview='maybe')


# ------------------------------------------------------------------ compose: service and key
MODEL = {'services': {
    'web': {'image': 'nginx:1.25', 'environment': {'API_KEY': SECRET, 'MODE': 'prod'},
            'volumes': [{'type': 'bind', 'source': '/tmp/proj/html', 'target': '/html'}]},
    'db': {'image': 'postgres:16'}}}


def _with(service: str, key: str, value):
    model = json.loads(json.dumps(MODEL))
    model['services'][service][key] = value
    return model


def test_fingerprints_name_every_key_and_each_entry_of_a_mapping_never_a_value():
    found = compose_state.fingerprints(MODEL, 'k' * 32, '/tmp/proj')
    assert sorted(found) == ['db', 'web']
    assert sorted(found['web']) == ['environment.API_KEY', 'environment.MODE', 'image',
                                    'volumes']
    assert SECRET not in json.dumps(found)
    assert '/tmp/proj' not in json.dumps(found)
    # The project directory is written as '.': files downloaded elsewhere are no change.
    moved = json.loads(json.dumps(MODEL).replace('/tmp/proj', '/var/other'))
    assert compose_state.fingerprints(moved, 'k' * 32, '/var/other') == found
    # Another key gives other fingerprints (nobody can test guesses without it).
    assert compose_state.fingerprints(MODEL, 'j' * 32)['db'] != found['db']


def test_changed_keys():
    assert compose_state.changed_keys({'a': '1', 'b': '2', 'c': '3'},
                                      {'a': '1', 'b': '9', 'd': '4'}) == {
        'b': 'changed', 'c': 'removed', 'd': 'added'}


def _containers(hashes):
    return [{'Names': [f'/p-{service}-1'], 'Labels': {
        'com.docker.compose.service': service, 'com.docker.compose.config-hash': value}}
        for service, value in hashes.items()]


def _drift(now_model, running_hashes, file_hashes, recorded_model=MODEL, **kwargs):
    key = 'k' * 32
    wanted = {'web': 1, 'db': 1}
    return compose_state.drift(_containers(running_hashes), file_hashes, wanted, now_model,
                               {'networks': [], 'volumes': []},
                               compose_state.fingerprints(recorded_model, key),
                               compose_state.fingerprints(now_model, key), **kwargs)


def test_compose_drift_names_the_service_and_key_that_changed_and_what_up_does():
    now = _with('web', 'environment', {'API_KEY': 'another', 'MODE': 'prod'})
    found = _drift(now, {'web': 'old', 'db': 'same'}, {'web': 'new', 'db': 'same'})
    assert [d.option for d in found] == ['services.web.environment.API_KEY']
    (entry,) = lifecycle.planned(S.COMPOSE_UP, 'compose project', found)
    said = entry.describe()
    assert said == ("services.web.environment.API_KEY (services.web.environment.API_KEY): "
                    "declared 'changed in the files', found 'as at the last up'; update makes "
                    "it again: compose up makes the service's containers again")
    assert SECRET not in json.dumps(entry.as_dict()) and 'another' not in said


def test_compose_scaling_is_in_place_and_added_keys_are_named():
    now = _with('db', 'scale', 2)
    found = {d.option: d for d in _drift(now, {'web': 'a', 'db': 'b'}, {'web': 'a', 'db': 'c'})}
    assert found['services.db.scale'].plan.action is Action.IN_PLACE
    assert found['services.db.scale'].desired == 'added in the files'


def test_compose_hash_moved_with_no_key_changed_was_changed_outside():
    (entry,) = _drift(MODEL, {'web': 'edited', 'db': 'same'}, {'web': 'files', 'db': 'same'})
    assert entry.option == 'services.web'
    assert entry.actual == 'another configuration (changed outside this deployment)'
    assert entry.plan.action is Action.RECREATE


def test_compose_orphans_are_left_unless_remove_orphans():
    running = {'web': 'a', 'db': 'b', 'old': 'c'}
    left = [d for d in _drift(MODEL, running, {'web': 'a', 'db': 'b'})
            if d.option == 'services.old']
    assert left[0].plan.sentence().startswith('update leaves it: compose up leaves the '
                                              'containers of services the files no longer')
    removed = [d for d in _drift(MODEL, running, {'web': 'a', 'db': 'b'}, remove_orphans=True)
               if d.option == 'services.old']
    assert removed[0].plan == Plan(Action.RECREATE, 'compose up removes it (remove_orphans)')
