"""The re-run rule of the shared lifecycle (``tasks/lifecycle.py``), with a fake engine:
what an earlier run of this deployment's node made is claimed (or made again when it
differs from what is declared, unless it holds data), what another node or a live
instance holds is never taken, what earlier runs left under other names is cleared at
create and swept at uninstall, and a delete needs no engine when the instance never
reached one.

The real-engine behaviour (``cfy install`` twice, an interrupted install resumed, one
uninstall leaving nothing) is in tests/adversarial/test_faults_reruns.py.
"""

from __future__ import annotations

import types

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError, RecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin.adoption import Maker
from docker_plugin.tasks import context, lifecycle
from docker_plugin.tasks.container import lifecycle as container
from docker_plugin.tasks.network import lifecycle as network
from docker_plugin.tasks.volume import lifecycle as volume

LIVE = {'net_now', 'net_sibling', 'vol_now', 'web_now'}  # the instances the deployment has


def _labels(node: str, instance: str, deployment: str = 'dep') -> dict[str, str]:
    return {'cloudify.deployment': deployment, 'cloudify.node': node,
            'cloudify.node-instance': instance, 'cloudify.managed-by': 'docker_plugin'}


class Endpoint:
    """Cloudify's answer to "does the deployment have this node instance?"."""

    def __init__(self, live=LIVE, unknown=()):
        self.live, self.unknown, self.asked = set(live), set(unknown), []

    def get_node_instance(self, instance_id):
        self.asked.append(instance_id)
        if instance_id in self.unknown:
            raise RuntimeError('the manager is busy')
        if instance_id not in self.live:
            raise KeyError(f'Instance {instance_id} does not exist')
        return types.SimpleNamespace(id=instance_id, state='started')


@pytest.fixture
def make_ctx():
    def make(node='net', properties=None, runtime=None, workflow='install', endpoint=None,
             operation='op'):
        ctx = node_ctx('dep', properties, runtime, node=node, instance=f'{node}_now',
                       max_retries=5, operation=operation)
        ctx._endpoint = endpoint or Endpoint()
        ctx._context['workflow_id'] = workflow
        return ctx
    yield make
    current_ctx.clear()


def _network(instance: str, node: str = 'net', name: str = 'app-net', ident: str = 'e',
             **extra) -> dict:
    return {'Id': ident * 64, 'Name': name, 'Driver': 'bridge', 'Internal': False,
            'Labels': _labels(node, instance), 'IPAM': {'Config': []}, 'Containers': {},
            **extra}


def _network_api(existing: dict | None, listed: list[dict] | None = None):
    api = fake_api()
    made = _network('net_now', ident='n')
    listed = listed if listed is not None else [existing] if existing else []
    known = {ref: info for info in [made, *listed, existing] if info
             for ref in (info['Name'], info['Id'])}
    named = {existing['Name']} if existing else set()

    def inspect(ref):
        if ref in known and (ref in named or ref == known[ref]['Id']):
            return known[ref]
        raise api_error(404, 'no such network', docker.errors.NotFound)

    api.inspect_network.side_effect = inspect
    api.networks.return_value = listed
    api.create_network.return_value = {'Id': made['Id']}
    return api


# ------------------------------------------------------------------ claiming
def test_a_network_an_earlier_run_made_is_claimed_as_this_deployments(make_ctx):
    """`cfy install` run again: the network of the name carries this deployment's and
    this node's labels, made by an instance the deployment no longer has: taken as made
    (adopted false: uninstall removes it), not created again, no flag needed."""
    earlier = _network('net_gone')
    api = _network_api(earlier)
    ctx = make_ctx(properties={'name': 'app-net'})
    with fake_engine(api):
        network.create(ctx=ctx)
    api.create_network.assert_not_called()
    props = ctx.instance.runtime_properties
    assert (props['network_id'], props['adopted']) == (earlier['Id'], False)
    assert '__cloudify_tagged_external_resource' not in props
    assert ctx._endpoint.asked == ['net_gone']


def test_a_claimed_network_goes_on_uninstall(make_ctx):
    earlier = _network('net_gone')
    api = _network_api(earlier)
    ctx = make_ctx(properties={'name': 'app-net'})
    with fake_engine(api):
        network.create(ctx=ctx)
        ctx._context['workflow_id'] = 'uninstall'
        network.delete(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == [earlier['Id']]


def test_a_network_that_differs_from_its_declaration_is_made_again(make_ctx):
    """The install was fixed (internal: true now): the earlier run's network no
    instance holds and no container uses is removed and made as declared."""
    earlier = _network('net_gone')
    api = _network_api(earlier)
    ctx = make_ctx(properties={'name': 'app-net', 'network_config': {'internal': True}})
    with fake_engine(api):
        network.create(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == [earlier['Id']]
    assert api.create_network.call_args.kwargs['internal'] is True
    assert ctx.instance.runtime_properties['network_id'] == 'n' * 64


def test_a_differing_network_in_use_stops_the_install_saying_what_to_do(make_ctx):
    earlier = _network('net_gone', Containers={'c' * 64: {'Name': 'old-web'}})
    api = _network_api(earlier)
    ctx = make_ctx(properties={'name': 'app-net', 'network_config': {'internal': True}})
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        network.create(ctx=ctx)
    message = str(failure.value)
    assert message.startswith('network app-net: an earlier run of this deployment made it '
                              '(node instance net_gone')
    assert 'internal' in message and 'old-web' in message
    api.remove_network.assert_not_called()
    api.create_network.assert_not_called()


def test_a_differing_volume_is_never_made_again(make_ctx):
    """A volume holds data: one an earlier run made that differs from its declaration
    stops the install, naming the difference; nothing is removed."""
    earlier = {'Name': 'app-data', 'Driver': 'local', 'Labels': _labels('vol', 'vol_gone'),
               'Options': {}}
    api = fake_api()
    api.inspect_volume.return_value = earlier
    api.volumes.return_value = {'Volumes': [earlier]}
    ctx = make_ctx(node='vol', properties={'name': 'app-data',
                                           'volume_config': {'driver_opts': {'type': 'tmpfs'}}})
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        volume.create(ctx=ctx)
    assert 'it is not made again, as it may hold data' in str(failure.value)
    assert 'driver_opts' in str(failure.value)
    api.remove_volume.assert_not_called()


def test_a_volume_as_declared_is_claimed(make_ctx):
    earlier = {'Name': 'app-data', 'Driver': 'local', 'Labels': _labels('vol', 'vol_gone')}
    api = fake_api()
    api.inspect_volume.return_value = earlier
    api.volumes.return_value = {'Volumes': [earlier]}
    ctx = make_ctx(node='vol', properties={'name': 'app-data'})
    with fake_engine(api):
        volume.create(ctx=ctx)
    api.create_volume.assert_not_called()
    assert ctx.instance.runtime_properties['adopted'] is False


# ------------------------------------------------------------------ never taken
@pytest.mark.parametrize(('labels', 'holder'), [
    (_labels('net', 'net_sibling'), 'node instance net_sibling'),   # a live instance
    (_labels('other', 'other_x1'), 'node other (instance other_x1)'),  # another node
])
def test_what_the_deployment_holds_elsewhere_is_not_taken(make_ctx, labels, holder):
    api = _network_api({**_network('net_sibling'), 'Labels': labels})
    ctx = make_ctx(properties={'name': 'app-net'})
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        network.create(ctx=ctx)
    assert str(failure.value).startswith(f'name: network app-net already exists and {holder} '
                                         'of this deployment holds it: give each node its own '
                                         'name')
    api.create_network.assert_not_called()


def test_an_instance_cloudify_cannot_answer_for_counts_as_held_at_create(make_ctx):
    api = _network_api(_network('net_gone'))
    ctx = make_ctx(properties={'name': 'app-net'}, endpoint=Endpoint(unknown={'net_gone'}))
    with fake_engine(api), pytest.raises(NonRecoverableError, match='holds it'):
        network.create(ctx=ctx)


def test_another_deployments_object_is_still_refused(make_ctx):
    api = _network_api({**_network('net_x'), 'Labels': _labels('net', 'net_x', 'other-dep')})
    with fake_engine(api), pytest.raises(NonRecoverableError,
                                         match='was not made by this deployment'):
        network.create(ctx=make_ctx(properties={'name': 'app-net'}))


# ------------------------------------------------------------------ leftovers
def test_leftovers_of_earlier_runs_are_cleared_at_create_unless_they_hold_data(make_ctx):
    """Default names change with the instance: an earlier run's network (nothing uses it)
    goes at create; a live sibling's stays; an earlier run's volume stays (its data), and
    the log says uninstall removes it."""
    leftover = _network('net_gone', name='dep-net_gone', ident='l')
    sibling = _network('net_sibling', name='dep-net_sibling', ident='s')
    api = _network_api(None, [leftover, sibling])
    ctx = make_ctx()
    with fake_engine(api):
        network.create(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == [leftover['Id']]

    old_volume = {'Name': 'dep-vol_gone', 'Driver': 'local', 'Labels': _labels('vol', 'vol_gone')}
    api = fake_api()
    api.inspect_volume.side_effect = api_error(404, 'no such volume', docker.errors.NotFound)
    api.volumes.return_value = {'Volumes': [old_volume]}
    api.create_volume.return_value = {'Name': 'dep-vol_now', 'Driver': 'local'}
    ctx = make_ctx(node='vol')
    with fake_engine(api), pytest.MonkeyPatch.context() as patch:
        said = []
        patch.setattr(ctx.logger, 'warning', lambda msg, *args: said.append(msg % args))
        volume.create(ctx=ctx)
    api.remove_volume.assert_not_called()
    assert said == ['Left by an earlier run of this deployment and kept until uninstall: '
                    'volume dep-vol_gone (it may hold data)']


def test_uninstall_sweeps_what_earlier_runs_of_the_node_left(make_ctx):
    """In the uninstall workflow every instance goes: what earlier runs made (and what
    Cloudify cannot answer for) goes with this one's; a live sibling removes its own."""
    mine = _network('net_now', ident='n')
    leftover = _network('net_gone', ident='l')
    unknown = _network('net_unknown', ident='u')
    sibling = _network('net_sibling', ident='s')
    api = _network_api(None, [mine, leftover, unknown, sibling])
    api.inspect_network.side_effect = lambda ref: {**mine, 'Id': ref}
    ctx = make_ctx(runtime={'network_id': mine['Id'], 'network_name': 'app-net'},
                   workflow='uninstall', endpoint=Endpoint(unknown={'net_unknown'}))
    with fake_engine(api):
        network.delete(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == [
        mine['Id'], leftover['Id'], unknown['Id']]


def test_an_uninstall_sweeps_once_an_execution_and_node_in_a_process(make_ctx):
    """What an earlier run left cannot appear during the uninstall: the first delete of
    the node in this process sweeps (by the node's labels), the others look only for
    their own instance's; a sweep that failed is made again by the retry."""
    leftover = _network('net_gone', ident='l')
    sibling = _network('net_sibling', ident='s')

    def delete(instance, ident, fails=False):
        api = _network_api(None, [leftover, sibling])
        api.inspect_network.side_effect = lambda ref: {**sibling, 'Id': ref}
        if fails:
            api.networks.side_effect = api_error(500, 'engine trouble')
        ctx = node_ctx('dep', None, {'network_id': ident * 64, 'network_name': 'app-net'},
                       node='net', instance=instance, max_retries=5, operation=DELETE)
        ctx._endpoint = Endpoint()
        ctx._context['workflow_id'] = 'uninstall'
        ctx._execution_id = 'exec-sweep'
        with fake_engine(api):
            if fails:
                with pytest.raises((RecoverableError, NonRecoverableError)):
                    network.delete(ctx=ctx)
            else:
                network.delete(ctx=ctx)
        labels = [c.kwargs.get('filters', {}).get('label') for c in api.networks.call_args_list]
        return labels, [c.args[0] for c in api.remove_network.call_args_list]

    by_instance = ['cloudify.deployment=dep', 'cloudify.node=net',
                   'cloudify.node-instance=net_sibling']
    labels, removed = delete('net_now', 'n', fails=True)  # claimed, failed: unclaimed
    assert labels == [['cloudify.deployment=dep', 'cloudify.node=net']]
    labels, removed = delete('net_now', 'n')
    assert labels == [['cloudify.deployment=dep', 'cloudify.node=net']]
    assert removed == ['n' * 64, leftover['Id']]
    labels, removed = delete('net_sibling', 's')
    assert labels == [by_instance] and removed == ['s' * 64]


def test_a_heal_or_scale_down_removes_only_the_instances_own(make_ctx):
    mine = _network('net_now', ident='n')
    leftover = _network('net_gone', ident='l')
    api = _network_api(None, [mine, leftover])
    api.inspect_network.side_effect = lambda ref: {**mine, 'Id': ref}
    ctx = make_ctx(runtime={'network_id': mine['Id'], 'network_name': 'app-net'},
                   workflow='heal')
    with fake_engine(api):
        network.delete(ctx=ctx)
    assert [c.args[0] for c in api.remove_network.call_args_list] == [mine['Id']]


# ------------------------------------------------------------------ containers
def _container(instance: str, image_id: str = 'sha256:img', **config) -> dict:
    return {'Id': 'c' * 64, 'Name': '/app-web', 'Image': image_id,
            'Config': {'Image': 'app/web:1', 'Labels': _labels('web', instance), 'Cmd': None,
                       **config},
            'HostConfig': {'NetworkMode': 'default'},
            'NetworkSettings': {'Networks': {'bridge': {'Aliases': None}}},
            'State': {'Running': True, 'Status': 'running'}}


def _container_api(existing: dict):
    api = fake_api()
    api.inspect_container.side_effect = lambda ref: existing if ref in (
        'app-web', existing['Id']) else (_ for _ in ()).throw(
        api_error(404, 'No such container', docker.errors.NotFound))
    api.containers.return_value = [{'Id': existing['Id'], 'Names': ['/app-web'],
                                    'Labels': existing['Config']['Labels']}]
    api.inspect_image.return_value = {'Id': 'sha256:img', 'Config': {}}
    removed = []
    api.remove_container.side_effect = lambda ref, **_: removed.append(ref)

    def create(*args, name=None, **kwargs):  # the engine: one container a name
        if name == 'app-web' and existing['Id'] not in removed:
            raise api_error(409, f'Conflict. The container name "/app-web" is already in use '
                                 f'by container "{existing["Id"]}"', docker.errors.APIError)
        return {'Id': 'f' * 64}
    api.create_container.side_effect = create
    return api


def test_an_earlier_runs_container_as_declared_is_claimed(make_ctx):
    api = _container_api(_container('web_gone'))
    ctx = make_ctx(node='web', runtime={'image': 'app/web:1', 'image_id': 'sha256:img'})
    with fake_engine(api):
        container.configure(ctx=ctx, container_config={'name': 'app-web',
                                                       'image': 'app/web:1'})
    # Created at once under the instance's name: refused, the name taken; then claimed.
    assert api.create_container.call_count == 1
    api.remove_container.assert_not_called()
    props = ctx.instance.runtime_properties
    assert (props['container_id'], props['adopted']) == ('c' * 64, False)


def test_an_earlier_runs_container_that_differs_is_made_again(make_ctx):
    """The fix changed the command: the earlier run's container goes, a new one is made."""
    api = _container_api(_container('web_gone', Cmd=['sleep', '1']))
    ctx = make_ctx(node='web', runtime={'image': 'app/web:1', 'image_id': 'sha256:img'})
    with fake_engine(api):
        container.configure(ctx=ctx, container_config={
            'name': 'app-web', 'image': 'app/web:1', 'command': ['sleep', '3600']})
    assert api.remove_container.call_args.args[0] == 'c' * 64
    assert api.create_container.call_args.kwargs['command'] == ['sleep', '3600']
    assert ctx.instance.runtime_properties['container_id'] == 'f' * 64


# ------------------------------------------------------------------ no engine
DOWN = {'base_url': 'tcp://127.0.0.1:9'}
STOP, DELETE = 'cloudify.interfaces.lifecycle.stop', 'cloudify.interfaces.lifecycle.delete'


def test_a_delete_finishes_without_the_engine_when_the_instance_never_reached_it(make_ctx):
    ctx = make_ctx(workflow='uninstall')
    with pytest.MonkeyPatch.context() as patch:
        said = []
        patch.setattr(ctx.logger, 'warning', lambda msg, *args: said.append(msg % args))
        network.delete(ctx=ctx, daemon_client=DOWN)
        container.delete(ctx=make_ctx(node='web', workflow='uninstall'), daemon_client=DOWN)
    assert said[0].startswith('No Docker engine answers at tcp://127.0.0.1:9 '
                              '(daemon_client.base_url: connection refused), and this node '
                              'instance never reached an engine, so it made nothing there')


def test_a_delete_needs_the_engine_when_the_instance_reached_it(make_ctx):
    """It may have made something it could not record: the delete fails (retried), so
    nothing is left behind unseen."""
    ctx = make_ctx(runtime={'_engine_reached': True}, workflow='uninstall')
    with pytest.raises(Exception, match='unreachable') as failure:
        network.delete(ctx=ctx, daemon_client=DOWN)
    assert type(failure.value).__name__ == 'RecoverableError'


def test_a_delete_with_nothing_made_does_not_validate_the_engine_settings(make_ctx):
    """Settings an install refused (a misspelled key, a scheme the client cannot use)
    do not stop the uninstall of an instance that made nothing; stop needs nothing."""
    wrong = {'base_url': 'ftp://127.0.0.1:9'}
    container.stop(ctx=make_ctx(node='web', workflow='uninstall', operation=STOP),
                   daemon_client=wrong)
    container.delete(ctx=make_ctx(node='web', workflow='uninstall', operation=DELETE),
                     daemon_client=wrong)
    network.delete(ctx=make_ctx(workflow='uninstall', operation=DELETE),
                   daemon_client={'base_uri': 'x'})


def test_a_delete_of_an_instance_that_made_something_validates_them(make_ctx):
    ctx = make_ctx(runtime={'network_id': 'n' * 64}, workflow='uninstall', operation=DELETE)
    with pytest.raises(NonRecoverableError, match=r'^daemon_client\.base_uri'):
        network.delete(ctx=ctx, daemon_client={'base_uri': 'x'})


@pytest.mark.parametrize('version', [None, '1.41'])
def test_reaching_the_engine_is_recorded(make_ctx, version):
    """Negotiated, the recorded API version says it; pinned (nothing asked at connect),
    the flag is set when the block ends (a failure of the engine's answer included)."""
    api = fake_api()
    api.inspect_network.side_effect = api_error(404, 'no such', docker.errors.NotFound)
    api.networks.return_value = []
    ctx = make_ctx()
    assert not context.reached(ctx)
    client = {'version': version} if version else {}
    with fake_engine(api), pytest.raises(NonRecoverableError):
        network.check_status(ctx=ctx, daemon_client=client)
    assert context.reached(ctx)
    props = ctx.instance.runtime_properties
    assert ('_engine_reached' in props) == bool(version)
    assert ('_engine_api' in props) == (not version)


def test_the_live_instances_come_from_cloudify(make_ctx):
    ctx = make_ctx()
    assert lifecycle.live(ctx, 'net_now') is True
    assert lifecycle.live(ctx, 'net_sibling') is True
    assert lifecycle.live(ctx, 'net_gone') is False
    ctx._endpoint = Endpoint(unknown={'net_x'})
    assert lifecycle.live(ctx, 'net_x') is None
    ctx._endpoint = types.SimpleNamespace()  # no way to ask
    assert lifecycle.live(ctx, 'net_sibling') is None
    manager_404 = type('CloudifyClientError', (Exception,), {'status_code': 404})
    ctx._endpoint = types.SimpleNamespace(
        get_node_instance=lambda i: (_ for _ in ()).throw(manager_404('not found')))
    assert lifecycle.live(ctx, 'net_gone') is False
    ctx._endpoint = types.SimpleNamespace(
        get_node_instance=lambda i: types.SimpleNamespace(state='deleted'))
    assert lifecycle.live(ctx, 'net_gone') is False


def test_the_first_contact_is_written_before_anything_can_be_made(make_ctx):
    """A process killed inside the block (after the engine made something, before it was
    recorded) must leave the instance marked as reached, so that the uninstall looks for
    what it made; later negotiations go with the operation's own write."""
    ctx = make_ctx()
    api = fake_api()
    api.api_version = '1.41'
    writes = []
    update = ctx.instance.update
    ctx.instance.update = lambda *a, **k: (writes.append(dict(ctx.instance.runtime_properties)),
                                           update(*a, **k))
    with fake_engine(api), context.engine(ctx, {}):
        assert len(writes) == 1 and writes[0]['_engine_api']['version'] == '1.41'
    ctx.instance.runtime_properties['_engine_api'] = {'base_url': 'tcp://elsewhere:2375',
                                                      'version': '1.40'}
    with fake_engine(api), context.engine(ctx, {}):
        assert len(writes) == 1  # reached before: the new version is staged


def test_liveness_is_asked_once_an_execution_for_every_instance_of_the_node(make_ctx):
    """An uninstall's sweep in each of N instances asks about every other one: one look
    at the node's instances, kept for the execution, instead of N² look-ups."""
    asked = []

    class Storage:
        def get_node_instances(self, node_id=None):
            asked.append(node_id)
            return [types.SimpleNamespace(id=f'net_{i}', state='started') for i in range(50)] + \
                [types.SimpleNamespace(id='net_went', state='deleted')]

    ctx = make_ctx(endpoint=types.SimpleNamespace(storage=Storage()))
    ctx._execution_id = 'exec-live-1'
    assert all(lifecycle.live(ctx, f'net_{i}') is True for i in range(50))
    assert lifecycle.live(ctx, 'net_went') is False
    assert lifecycle.live(ctx, 'net_earlier_run') is False
    assert asked == ['net']
    ctx._execution_id = 'exec-live-2'  # another execution asks again
    assert lifecycle.live(ctx, 'net_3') is True and asked == ['net', 'net']
    other = make_ctx(node='db', endpoint=types.SimpleNamespace(storage=Storage()))
    other._execution_id = 'exec-live-2'  # and so does another node
    assert lifecycle.live(other, 'net_3') is True and asked == ['net', 'net', 'db']


def test_an_object_labelled_with_the_deployment_alone_is_no_nodes(make_ctx):
    """Labelled by hand (or another tool) with the deployment id: no node made it, so it
    is refused as not this deployment's, never said to be held by a node."""
    ctx = make_ctx()
    assert lifecycle.maker(ctx, {'cloudify.deployment': 'dep'}) == (Maker.NONE, '')
    assert lifecycle.maker(ctx, {'cloudify.deployment': 'dep', 'cloudify.node': 'net',
                                 'cloudify.node-instance': 'net_gone'})[0] is Maker.EARLIER_RUN


@pytest.mark.parametrize('kind', ['image_pull', 'image_build', 'image_import'])
def test_create_writes_its_first_contact_with_its_record_or_before_it_makes_an_image(
        make_ctx, monkeypatch, kind):
    """Create stages its first contact with the engine (one write fewer: on a manager a
    REST update and the fetch after it). A build or an import writes it before the engine
    makes the labelled image that an uninstall after a kill must look for; a pull (whose
    image carries no label of ours to look for) or an image already there writes it with
    the record."""
    from docker_plugin.resources import images
    from docker_plugin.tasks.image import sources
    ctx = make_ctx(node='app')
    writes = []
    update = ctx.instance.update
    ctx.instance.update = lambda *a, **k: (writes.append(dict(ctx.instance.runtime_properties)),
                                           update(*a, **k))
    stored_when_made = []
    made = images.ImageResult('sha256:' + 'a' * 64, 'app:1', kind.split('_')[1])

    def make(*_args, **_kwargs):
        stored_when_made.append([sorted(w) for w in writes])
        return (made, True) if kind == 'image_pull' else made
    monkeypatch.setattr(images, {'image_pull': 'pull_as', 'image_build': 'build_image',
                                 'image_import': 'import_image'}[kind], make)
    monkeypatch.setattr(sources, '_made_before', lambda *a, **k: None)
    monkeypatch.setattr(sources, '_context_dir', lambda ctx, values: '/context')
    values = {'image_pull': {'repository': 'app', 'tag': '1', 'policy': 'missing',
                             'timeout': 30},
              'image_build': {'path': 'ctx', 'tag': 'app:1', 'timeout': 30},
              'image_import': {'src': 'http://127.0.0.1:1/app.tar', 'repository': 'app',
                               'tag': '1', 'timeout': 30}}[kind]
    with fake_engine(fake_api()) as api, \
            context.engine(ctx, {}, contact_now=False) as client:
        assert writes == []  # staged
        sources.obtain(ctx, client.api, kind, values)
        assert client.api is api
    if kind == 'image_pull':
        assert stored_when_made == [[]]  # nothing written before the pull
        assert len(writes) == 1  # the contact and the record, together
    else:
        assert stored_when_made == [[[context.API_VERSION_KEY]]]  # the contact, before
        assert len(writes) == 2
    assert writes[-1][context.API_VERSION_KEY]['version'] == '1.41'
    assert writes[-1]['image_id'] == made.id
