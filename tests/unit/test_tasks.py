"""The lifecycle operations with a mock ctx: validation first, error mapping, persistence.

Inputs are checked before any engine call, shown by pointing daemon_client at
a closed port. Error paths an engine cannot be made to produce on demand use a
fake API (said where used).
"""

from __future__ import annotations

from unittest import mock

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks

DOWN = {'base_url': 'tcp://127.0.0.1:9', 'version': '1.41', 'timeout': 2}


@pytest.fixture
def make_ctx():
    def make(runtime_properties=None, properties=None):
        return node_ctx('dep', properties, runtime_properties, node='c1', instance='c1_abc')
    yield make
    current_ctx.clear()


@pytest.mark.parametrize(('op', 'inputs', 'field'), [
    ('create', {'image_import': {'src': 'x'}, 'image_build': {'path': '.'}},
     'image_build'),
    ('create', {}, 'container_config.image'),
    ('create', {'image_import': {'repository': 'r'}}, 'image_import.src'),
    ('create', {'image_import': {'src': 'x', 'bogus': 1}}, 'image_import.bogus'),
    ('create', {'image_build': {'rm': True}}, 'image_build.path'),
    ('create', {'image_build': {'path': '.', 'fileobj': 'x'}}, 'image_build.fileobj'),
    ('create', {'image_pull': {'repository': 'r', 'policy': 'sometimes'}}, 'image_pull.policy'),
    ('create', {'image_import': 'http://x'}, 'image_import'),
    ('configure', {'container_config': {'image': 'i', 'colour': 'red'}},
     'container_config.colour'),
    ('configure', {'container_config': {'image': 'i', 'tty': 'yes'}}, 'container_config.tty'),
    ('configure', {'container_config': {'image': 'i'}, 'container_start': {'command': 'x'}},
     'container_start.command'),
    ('configure', {'container_config': {'command': 'x'}}, 'container_config.image'),
    ('configure', {'container_config': {'image': 'i'}, 'use_external_resource': True},
     'container_config.name'),
    ('configure', {'container_config': {'image': 'i'}, 'use_if_exists': 'y'}, 'use_if_exists'),
    ('stop', {'container_stop': {'timeout': -1}}, 'container_stop.timeout'),
    ('stop', {'container_stop': {'signal': 'KILL'}}, 'container_stop.signal'),
    ('delete', {'container_remove': {'force': 'yes'}}, 'container_remove.force'),
    ('delete', {'container_remove': {'volumes': True}}, 'container_remove.volumes'),
])
def test_bad_input_fails_before_the_engine_naming_the_field(make_ctx, op, inputs, field):
    ctx = make_ctx(runtime_properties={'container_id': 'abc'})
    with pytest.raises(NonRecoverableError) as failure:
        getattr(tasks, op)(ctx=ctx, daemon_client=DOWN, **inputs)
    assert str(failure.value).startswith(f'{field}:'), str(failure.value)


def test_a_daemon_client_mistake_is_permanent(make_ctx):
    with pytest.raises(NonRecoverableError, match=r'daemon_client\.colour'):
        tasks.stop(ctx=make_ctx({'container_id': 'abc'}), daemon_client={'colour': 1})


def test_an_engine_that_is_down_is_retried(make_ctx):
    ctx = make_ctx()
    with pytest.raises(RecoverableError, match='unreachable'):
        tasks.configure(ctx=ctx, daemon_client=DOWN, container_config={'image': 'busybox'})
    assert 'container_id' not in ctx.instance.runtime_properties


def test_engine_5xx_on_create_is_retried(make_ctx):
    api = fake_api()
    api.inspect_container.side_effect = api_error(404, 'no such', docker.errors.NotFound)
    api.create_container.side_effect = api_error(500, 'containerd is restarting')
    with fake_engine(api), pytest.raises(RecoverableError, match='engine error 500'):
        tasks.configure(ctx=make_ctx(), container_config={'image': 'busybox', 'name': 'n'})


def test_the_container_id_is_written_the_moment_the_engine_returns_it(make_ctx):
    api = fake_api()
    api.create_container.return_value = {'Id': 'f' * 64}
    api.inspect_container.side_effect = api_error(404, 'No such container',
                                                  docker.errors.NotFound)
    ctx = make_ctx()
    writes = []
    ctx.instance.update = lambda *a, **k: writes.append(
        (dict(ctx.instance.runtime_properties), api.method_calls[-1][0] if api.method_calls
         else None))
    with fake_engine(api):
        tasks.configure(ctx=ctx, container_config={'image': 'busybox'})
    first_with_id = next(w for w in writes if 'container_id' in w[0])
    # Written right after the create call, before any other engine call.
    assert first_with_id[0]['container_id'] == 'f' * 64
    assert first_with_id[1] == 'create_container'


def test_stop_and_delete_of_a_gone_container_succeed(make_ctx):
    api = fake_api()
    gone = api_error(404, 'No such container', docker.errors.NotFound)
    # The engine answers 404 to every call about the container: inspect, the stop
    # request, the remove.
    api.inspect_container.side_effect = api._raise_for_status.side_effect = \
        api.remove_container.side_effect = gone
    ctx = make_ctx({'container_id': 'abc', 'ip': '1.2.3.4', 'image_id': 'sha256:x'})
    with fake_engine(api):
        tasks.stop(ctx=ctx)
        assert 'state' not in ctx.instance.runtime_properties  # nothing stopped
        tasks.delete(ctx=ctx)
    assert 'container_id' not in ctx.instance.runtime_properties
    assert 'ip' not in ctx.instance.runtime_properties
    assert ctx.instance.runtime_properties['image_id'] == 'sha256:x'  # image kept by default
    assert api._post.call_count == 1  # stop's request; delete stops nothing that is gone


def test_delete_after_a_recreation_left_the_container_it_replaced_removes_both(make_ctx):
    """run re-creates a never-started container to apply container_start; a crash before
    it removed the old one leaves it recorded as replaced: delete looks by label then."""
    api = fake_api()
    found = {'new': {'Id': 'new', 'Image': 'sha256:img', 'Name': '/c', 'State': {}},
             'old': {'Id': 'old', 'Image': 'sha256:img', 'Name': '/c-replaced-old',
                     'State': {}}}
    api.inspect_container.side_effect = found.__getitem__
    ctx = make_ctx({'container_id': 'new', 'replaced_container_id': 'old'})
    from docker_plugin.tasks.container.lifecycle import container_labels
    api.containers.return_value = [{**found[key], 'Labels': container_labels(ctx)}
                                   for key in ('new', 'old')]
    with fake_engine(api):
        tasks.delete(ctx=ctx)
    assert sorted(c.args[0] for c in api.remove_container.call_args_list) == ['new', 'old']
    assert 'replaced_container_id' not in ctx.instance.runtime_properties


def test_delete_waits_for_a_removal_the_engine_already_started(make_ctx):
    """auto_remove: stopping the container starts its removal; the remove that follows
    is answered "already in progress" (found by the option rows of the drift tier)."""
    api = fake_api()
    running = {'Id': 'abc', 'Image': 'sha256:img', 'State': {'Running': True}}
    gone = api_error(404, 'No such container', docker.errors.NotFound)
    api.inspect_container.side_effect = [running, running, gone]
    api.remove_container.side_effect = api_error(
        409, 'removal of container abc is already in progress')
    ctx = make_ctx({'container_id': 'abc'})
    with fake_engine(api):
        tasks.delete(ctx=ctx)
    assert 'container_id' not in ctx.instance.runtime_properties
    # Still there after the wait: Cloudify retries.
    api.inspect_container.side_effect = None
    api.inspect_container.return_value = running
    ctx = make_ctx({'container_id': 'abc'})
    with fake_engine(api), mock.patch('docker_plugin.resources.container.containers.time.monotonic',
                                      side_effect=[0, 0, 100]), \
            pytest.raises(RecoverableError, match='already in progress'):
        tasks.delete(ctx=ctx)


def test_container_start_options_the_engine_refuses_name_container_start(make_ctx):
    """Found by the fuzz tier: storage_opt {'0': ''} is refused only when the container is
    created again with it (a 500 from the engine): the refusal names the option (its
    value, quoted back), and the old container gets its name back."""
    api = fake_api()
    api.inspect_container.return_value = {
        'Id': 'a' * 64, 'Name': '/c', 'Config': {'Image': 'busybox'}, 'HostConfig': {},
        'State': {'StartedAt': '0001-01-01T00:00:00Z', 'Running': False}}
    api.create_container_from_config.side_effect = api_error(500, 'Unknown option 0')
    ctx = make_ctx({'container_id': 'a' * 64})
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        tasks.run(ctx=ctx, container_start={'storage_opt': {'0': ''}})
    assert str(failure.value).startswith('container_start.storage_opt: the engine refused '
                                         'the container_start options')
    assert ctx.instance.runtime_properties['container_id'] == 'a' * 64  # delete removes it
    assert api.rename.call_args_list[-1] == mock.call('a' * 64, 'c')


def _image_api(tags, users=()):
    """A fake engine holding container abc (stopped) and image sha256:img with ``tags``,
    which the containers ``users`` use."""
    api = fake_api()
    api.inspect_container.return_value = {'Id': 'abc', 'Image': 'sha256:img',
                                          'State': {'Running': False}}
    api.inspect_image.return_value = {'Id': 'sha256:img', 'RepoTags': list(tags)}
    api.containers.side_effect = lambda **kw: [
        {'Id': u * 12, 'Names': [f'/{u}']} for u in users] \
        if 'ancestor' in kw.get('filters', {}) else []
    return api


MADE = {'container_id': 'abc', 'image_id': 'sha256:img', 'image': 'app/web:1',
        'image_created': True, 'image_source': 'build'}


def test_remove_image_takes_off_only_the_name_the_node_added(make_ctx):
    """Item 7: the image has a second name that other deployments' containers use: only
    this node's name goes, without force; the uninstall does not fail."""
    api = _image_api(['app/web:1', 'theirs/web:prod'], users=['their-app'])
    ctx = make_ctx(dict(MADE))
    with fake_engine(api):
        tasks.delete(ctx=ctx, container_remove={'remove_image': True})
    assert api.remove_image.call_args_list == [mock.call('app/web:1')]
    assert 'image_id' not in ctx.instance.runtime_properties


def test_remove_image_keeps_an_image_containers_use_by_its_last_name(make_ctx):
    """The node's name is the image's only one, but another container uses the image:
    image and name stay (the container would be left with a nameless image), said in
    the log; nothing fails and nothing is forced."""
    api = _image_api(['app/web:1'], users=['their-app'])
    ctx = make_ctx(dict(MADE))
    with fake_engine(api), mock.patch.object(ctx.logger, 'info') as info:
        tasks.delete(ctx=ctx, container_remove={'remove_image': True})
    api.remove_image.assert_not_called()
    said = ' '.join(str(c.args[0]) % c.args[1:] for c in info.call_args_list)
    assert 'image app/web:1 stays: containers their-app use it' in said


def test_remove_image_removes_what_nothing_else_holds(make_ctx):
    api = _image_api(['app/web:1'])
    ctx = make_ctx(dict(MADE))
    with fake_engine(api):
        tasks.delete(ctx=ctx, container_remove={'remove_image': True})
    assert api.remove_image.call_args_list == [mock.call('app/web:1', force=False)]


def test_remove_image_leaves_an_image_the_node_did_not_make(make_ctx):
    """A pulled image that was there before (or another node's) is not this node's."""
    api = _image_api(['busybox:latest'])
    ctx = make_ctx({**MADE, 'image': 'busybox:latest', 'image_created': False})
    with fake_engine(api):
        tasks.delete(ctx=ctx, container_remove={'remove_image': True})
    api.remove_image.assert_not_called()


def test_remove_image_that_the_engine_refuses_is_a_clear_permanent_error(make_ctx):
    """Images built on it keep it: the refusal says what to do."""
    api = _image_api(['app/web:1'])
    api.remove_image.side_effect = api_error(
        409, 'conflict: unable to delete 1234 (cannot be forced) - image has dependent '
             'child images')
    ctx = make_ctx(dict(MADE))
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        tasks.delete(ctx=ctx, container_remove={'remove_image': True})
    message = str(failure.value)
    assert message.startswith('remove_image: image app/web:1 cannot be removed')
    assert 'set remove_image to false' in message
    api.remove_container.assert_called_once_with('abc', v=False, link=False, force=False)
    assert ctx.instance.runtime_properties['image_id'] == 'sha256:img'  # retried next time


def test_docker_env_var_wins_over_the_static_environment(make_ctx):
    api = fake_api()
    api.create_container.return_value = {'Id': 'a' * 64}
    api.inspect_container.side_effect = [api_error(404, 'x', docker.errors.NotFound),
                                         {'Id': 'a' * 64, 'Name': '/n', 'State': {}}]
    ctx = make_ctx({'docker_env_var': {'PEER': '10.0.0.2', 'MODE': 'runtime'},
                    'image': 'busybox'})
    with fake_engine(api):
        tasks.configure(ctx=ctx, container_config={'environment': {'MODE': 'static', 'X': 1}})
    env = api.create_container.call_args.kwargs['environment']
    assert env == {'MODE': 'runtime', 'X': '1', 'PEER': '10.0.0.2'}
