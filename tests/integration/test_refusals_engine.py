"""What the real engine refuses fails at once, naming the option it is about.

The engine answers a create or a start with one message for the whole request; the
plugin finds the option through the option tables (``options.refusals``), so the
error names ``container_config.cap_add`` (or ``container_start.mounts``), never just
``container_config``, and a bind source that does not exist is never blamed on the
image. A client without TLS against a TLS engine, and a repository name longer than
the engine takes, are permanent and name their field too.
"""

from __future__ import annotations

import uuid

import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.cleanup import labelled_objects, remove_labelled
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}
GONE = '/nonexistent/dpt-refusals'

# (options the blueprint gives, the option the error must name, a word of the engine's)
REFUSED = [
    ({'cap_add': ['NOPE']}, 'cap_add', 'CapAdd'),
    ({'cap_add': ['NOPE'], 'cap_drop': ['NOPE']}, 'cap_add', 'CapAdd'),
    ({'cap_drop': ['NOPE']}, 'cap_drop', 'CapDrop'),
    ({'mounts': [{'type': 'bind', 'source': GONE, 'target': '/x'}]}, 'mounts', GONE),
    ({'mounts': [{'type': 'volume', 'source': 'a b', 'target': '/x'}]}, 'mounts', 'a b'),
    ({'devices': [f'{GONE}:/dev/x']}, 'devices', GONE),
    ({'sysctls': {'net.nope': '1'}}, 'sysctls', 'net/nope'),
    ({'security_opt': ['nope']}, 'security_opt', 'security-opt'),
    ({'log_config': {'type': 'nope'}}, 'log_config', 'nope'),
    ({'user': 'nobodyxx'}, 'user', 'nobodyxx'),
    ({'group_add': ['nogroupx']}, 'group_add', 'nogroupx'),
    ({'working_dir': '/proc/x'}, 'working_dir', '/proc/x'),
    ({'network_mode': 'container:nope'}, 'network_mode', 'nope'),
    ({'ipc_mode': 'container:nope'}, 'ipc_mode', 'nope'),
    ({'volumes_from': ['nope']}, 'volumes_from', 'nope'),
    ({'links': ['nope:x']}, 'links', 'nope'),
    ({'runtime': 'nope'}, 'runtime', 'nope'),
    ({'runtime': 'runc', 'sysctls': {'net.nope': '1'}}, 'sysctls', 'net/nope'),
    ({'cpuset_cpus': '99'}, 'cpuset_cpus', '99'),
    ({'mem_limit': '1m'}, 'mem_limit', 'memory'),
    ({'entrypoint': ['/nope']}, 'entrypoint', '/nope'),
    ({'tmpfs': {'/x': 'size=abc'}}, 'tmpfs', 'tmpfs'),
]


@pytest.fixture
def make_ctx(docker_client):
    made = []

    def make(**properties):
        deployment = f'dpt-{uuid.uuid4().hex[:8]}'
        ctx = node_ctx(deployment, {'container_stop': {'timeout': 0},
                                    'container_remove': {'force': True, 'v': True},
                                    **properties}, node='c')
        made.append(deployment)
        return ctx

    yield make
    current_ctx.clear()
    for deployment in made:
        left = labelled_objects(docker_client, {'cloudify.deployment': deployment})
        remove_labelled(docker_client, {'cloudify.deployment': deployment})
        assert left == NOTHING, left


def _lifecycle(ctx, **inputs):
    try:
        tasks.configure(ctx=ctx, **inputs)
        tasks.run(ctx=ctx, **inputs)
    finally:
        tasks.delete(ctx=ctx)


@pytest.mark.parametrize(('options', 'option', 'word'), REFUSED,
                         ids=[' '.join(sorted(o)) for o, _, _ in REFUSED])
def test_an_engine_refusal_names_the_container_config_option(make_ctx, options, option, word):
    ctx = make_ctx()
    config = {'image': BASE, 'command': ['sleep', '30'], **options}
    with pytest.raises(NonRecoverableError) as failure:
        _lifecycle(ctx, container_config=config)
    message = str(failure.value)
    assert message.startswith(f'container_config.{option}: the engine '), message
    assert word.lower() in message.lower()


@pytest.mark.parametrize(('options', 'option'), [
    ({'cap_add': ['NOPE']}, 'cap_add'),
    ({'mounts': [{'type': 'bind', 'source': GONE, 'target': '/x'}]}, 'mounts'),
    ({'devices': [f'{GONE}:/dev/x']}, 'devices'),
])
def test_an_engine_refusal_of_container_start_names_its_option(make_ctx, docker_client,
                                                               options, option):
    """Applied at run by creating the never-started container again: refused, the old
    one keeps its name (nothing is left renamed aside)."""
    ctx = make_ctx(container_config={'image': BASE, 'command': ['sleep', '30']})
    tasks.configure(ctx=ctx)
    name = ctx.instance.runtime_properties['container_name']
    try:
        with pytest.raises(NonRecoverableError) as failure:
            tasks.run(ctx=ctx, container_start=options)
        assert str(failure.value).startswith(f'container_start.{option}: the engine '), \
            str(failure.value)
        kept = docker_client.containers.get(ctx.instance.runtime_properties['container_id'])
        assert kept.name == name
    finally:
        tasks.delete(ctx=ctx)


def test_a_missing_image_is_still_blamed_on_the_image(make_ctx):
    """The image create recorded is gone by configure: the engine's "No such image"."""
    ctx = make_ctx(container_config={'command': 'true'})
    ctx.instance.runtime_properties['image'] = f'dpt-gone-{uuid.uuid4().hex[:6]}:1'
    with pytest.raises(NonRecoverableError) as failure:
        tasks.configure(ctx=ctx)
    assert str(failure.value).startswith('container_config.image: image dpt-gone-'), \
        str(failure.value)


def test_links_reach_the_container(make_ctx):
    """Legacy links (broken until the check gave the SDK pairs) resolve by alias."""
    target = make_ctx(container_config={'image': BASE, 'command': ['sleep', '30']})
    tasks.configure(ctx=target)
    tasks.run(ctx=target)
    ctx = make_ctx(container_config={
        'image': BASE, 'links': {target.instance.runtime_properties['container_name']: 'db'},
        'command': ['sh', '-c', 'grep -w db /etc/hosts']},
        wait_for={'condition': 'exited', 'exit_code': 0, 'timeout': 20})
    try:
        tasks.configure(ctx=ctx)
        tasks.run(ctx=ctx)
        assert ctx.instance.runtime_properties['exit_code'] == 0
    finally:
        tasks.delete(ctx=ctx)
        current_ctx.set(target)
        tasks.delete(ctx=target)


def test_a_repository_name_longer_than_the_engine_takes_names_image_build_tag(make_ctx,
                                                                              tmp_path):
    (tmp_path / 'Dockerfile').write_text(f'FROM {BASE}\n')
    ctx = make_ctx()
    with pytest.raises(NonRecoverableError) as failure:
        tasks.create(ctx=ctx, image_build={'path': str(tmp_path), 'tag': 'a' * 330})
    assert str(failure.value).startswith('image_build.tag: the repository name is 330 '), \
        str(failure.value)


@pytest.mark.parametrize('version', ['auto', '1.41'])
def test_no_tls_against_a_tls_engine_is_permanent_naming_daemon_client(
        make_ctx, remote_tls_engine, version):
    daemon = {'host': remote_tls_engine.address, 'port': remote_tls_engine.port,
              'tls': False, 'version': version, 'timeout': 10}
    ctx = make_ctx(container_config={'image': BASE, 'command': 'true'})
    with pytest.raises(NonRecoverableError) as failure:
        tasks.configure(ctx=ctx, daemon_client=daemon)
    message = str(failure.value)
    assert message.startswith('daemon_client.tls: '), message
    assert 'the engine speaks TLS' in message
