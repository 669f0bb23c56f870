"""Push, pull, tag and remove against real registries (plain HTTP and TLS, with auth)."""

from __future__ import annotations

import logging

import docker
import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.tasks.image import lifecycle as image_tasks

pytestmark = pytest.mark.engine


@pytest.fixture
def make_ctx(unique):
    def make(properties=None, node='img'):
        return node_ctx(unique, properties, node=node, instance=f'{node}_{unique[-6:]}')
    yield make
    current_ctx.clear()


@pytest.fixture
def context_dir(tmp_path, unique):
    (tmp_path / 'Dockerfile').write_text(
        'FROM docker-plugin/busybox:latest\nARG STAMP\nRUN echo "$STAMP" > /stamp\n')
    return str(tmp_path)


@pytest.mark.parametrize('which', ['registry', 'tls_registry'])
def test_build_push_remove_and_pull_back(which, request, make_ctx, context_dir, unique,
                                         docker_client, caplog):
    reg = request.getfixturevalue(which)
    repo = f'{reg.address}/plugin-test/{unique}'
    caplog.set_level(logging.DEBUG)
    builder = make_ctx({'image_build': {'path': context_dir, 'buildargs': {'STAMP': unique}},
                        'push': {'repository': repo, 'tag': 'v1', 'auth': reg.auth}})
    image_tasks.create(ctx=builder)
    image_tasks.push(ctx=builder)
    props = dict(builder.instance.runtime_properties)
    (pushed,) = props['pushed']
    assert pushed['reference'] == f'{repo}:v1' and pushed['digest'].startswith('sha256:')
    assert pushed['registry'] == reg.address
    image_tasks.delete(ctx=builder)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f'{repo}:v1')
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(props['image_id'])

    puller = make_ctx({'image_pull': {'repository': repo, 'tag': 'v1', 'auth': reg.auth}},
                      node='pull')
    image_tasks.create(ctx=puller)
    got = dict(puller.instance.runtime_properties)
    assert got['image_source'] == 'pull' and got['image_created'] is True
    assert got['image_digest'] == pushed['digest']
    out = docker_client.containers.run(got['image_id'], ['cat', '/stamp'], remove=True)
    assert out.decode().strip() == unique
    image_tasks.delete(ctx=puller)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(got['image_id'])
    # The password never reached a log line, the runtime properties or a message.
    logged = '\n'.join(r.getMessage() for r in caplog.records)
    assert reg.password not in logged and reg.password not in repr(props) + repr(got)


@pytest.fixture
def pushed_repo(registry, unique, docker_client):
    """The base image pushed as <registry>/plugin-test/<unique>-p:v1, then untagged
    locally; every local name of that repository is removed after the test."""
    image = docker_client.images.get('docker-plugin/busybox:latest')
    repo = f'{registry.address}/plugin-test/{unique}-p'
    image.tag(repo, 'v1')
    docker_client.images.push(repo, 'v1', auth_config=registry.auth)
    docker_client.images.remove(f'{repo}:v1')
    yield repo
    for found in docker_client.images.list():
        for ref in found.attrs.get('RepoTags', []) + found.attrs.get('RepoDigests', []):
            if ref.startswith(repo):
                try:
                    docker_client.images.remove(ref)
                except docker.errors.ImageNotFound:
                    pass  # went with the repository's previous name


def test_wrong_password_fails_at_once_naming_registry_and_image(registry, make_ctx,
                                                                pushed_repo):
    repo = pushed_repo
    wrong = 'not-the-Pa55word'
    ctx = make_ctx({'image_pull': {'repository': repo, 'tag': 'v1', 'policy': 'always',
                                   'auth': {**registry.auth, 'password': wrong}}})
    with pytest.raises(NonRecoverableError) as failure:
        image_tasks.create(ctx=ctx)
    message = str(failure.value)
    assert f'{repo}:v1' in message and 'access denied' in message
    assert wrong not in message and registry.password not in message
    # No credentials at all: refused too, as clearly.
    ctx = make_ctx({'image_pull': {'repository': repo, 'tag': 'v1'}}, node='anon')
    with pytest.raises(NonRecoverableError, match='access denied by the registry'):
        image_tasks.create(ctx=ctx)


def test_missing_tag_is_permanent_and_names_it(registry, make_ctx, unique):
    repo = f'{registry.address}/plugin-test/{unique}-none'
    ctx = make_ctx({'image_pull': {'repository': repo, 'tag': 'nope', 'auth': registry.auth}})
    with pytest.raises(NonRecoverableError) as failure:
        image_tasks.create(ctx=ctx)
    assert f'{repo}:nope not found in registry {registry.address}' in str(failure.value)


def test_push_with_a_wrong_password_fails_clearly(registry, make_ctx, unique, context_dir):
    ctx = make_ctx({'image_build': {'path': context_dir},
                    'push': {'repository': f'{registry.address}/plugin-test/{unique}',
                             'auth': {**registry.auth, 'password': 'nope-nope'}}})
    image_tasks.create(ctx=ctx)
    try:
        with pytest.raises(NonRecoverableError) as failure:
            image_tasks.push(ctx=ctx)
        assert 'access denied' in str(failure.value) and 'nope-nope' not in str(failure.value)
    finally:
        image_tasks.delete(ctx=ctx)


def test_image_in_use_fails_or_waits(make_ctx, context_dir, unique, docker_client, labelled):
    ctx = make_ctx({'image_build': {'path': context_dir}, 'in_use': 'fail'})
    image_tasks.create(ctx=ctx)
    image_id = ctx.instance.runtime_properties['image_id']
    user = docker_client.containers.create(image_id, 'true', name=f'{unique}-user',
                                           labels=labelled)
    with pytest.raises(NonRecoverableError, match=f'still used by containers {unique}-user'):
        image_tasks.delete(ctx=ctx)
    docker_client.images.get(image_id)  # still there
    user.remove()
    image_tasks.delete(ctx=ctx)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(image_id)


def test_a_preexisting_image_is_kept(make_ctx):
    ctx = make_ctx({'image_pull': {'repository': 'docker-plugin/busybox', 'tag': 'latest'},
                    'tags': ['docker-plugin-test/extra:1']})
    image_tasks.create(ctx=ctx)
    props = ctx.instance.runtime_properties
    assert props['image_created'] is False and props['image_tags'] == [
        'docker-plugin-test/extra:1']
    image_tasks.delete(ctx=ctx)
    client = docker.from_env()
    client.images.get('docker-plugin/busybox:latest')  # kept
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get('docker-plugin-test/extra:1')  # the tag we added is gone


def test_container_create_pulls_with_auth(registry, make_ctx, pushed_repo):
    repo = pushed_repo
    ctx = make_ctx({'image_pull': {'repository': f'{repo}:v1', 'auth': registry.auth}},
                   node='c')
    tasks.create(ctx=ctx)
    assert ctx.instance.runtime_properties['image'] == f'{repo}:v1'


def test_pull_by_digest(registry, make_ctx, pushed_repo, docker_client):
    repo = pushed_repo
    digest = docker_client.images.get_registry_data(f'{repo}:v1',
                                                    auth_config=registry.auth).id
    ctx = make_ctx({'image_pull': {'repository': repo, 'tag': digest, 'auth': registry.auth}})
    image_tasks.create(ctx=ctx)
    props = ctx.instance.runtime_properties
    assert props['image'] == f'{repo}@{digest}' and props['image_digest'] == digest
    assert props['image_created'] is True
    image_tasks.delete(ctx=ctx)
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f'{repo}@{digest}')
