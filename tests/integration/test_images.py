"""Image resource code against the real engine."""

from __future__ import annotations

import pytest

from docker_plugin.errors import NotFoundError, RefusedError, StateError
from docker_plugin.options.image import IMAGE_BUILD
from docker_plugin.resources import images
from docker_plugin.resources.container import containers
from docker_plugin.resources.container import spec as specs

pytestmark = pytest.mark.engine


class Recorder(list):
    def __call__(self, line: str) -> None:
        self.append(line)


def build_options(raw: dict) -> dict:
    values = IMAGE_BUILD.parse(raw, 'image_build')
    return {k: v for k, v in values.items()
            if v is not None and IMAGE_BUILD.options[k].section == 'build'}


def test_import_from_local_tarball_with_repository_and_tag(api, rootfs_tar, unique):
    log = Recorder()
    result = images.import_image(api, str(rootfs_tar), f'docker-plugin-test/{unique}', 'v1',
                                 [f'LABEL cloudify.deployment={unique}'], log)
    try:
        info = api.inspect_image(result.id)
        assert f'docker-plugin-test/{unique}:v1' in info['RepoTags']
        assert info['Config']['Labels']['cloudify.deployment'] == unique
        assert result.reference == f'docker-plugin-test/{unique}:v1'
        assert result.source == 'import'
    finally:
        api.remove_image(result.id, force=True)


def test_import_from_url_reports_the_id_from_the_multi_object_answer(api, http_root):
    _, base_url = http_root
    log = Recorder()
    result = images.import_image(api, f'{base_url}/rootfs.tar', None, None, None, log)
    try:
        assert api.inspect_image(result.id)['Id'] == result.id
        # Progress arrives as status changes, never one line per chunk.
        assert len(log) < 10 and any('Downloading' in line or 'Importing' in line
                                     for line in log), log
    finally:
        api.remove_image(result.id, force=True)


def test_import_from_a_missing_url_fails_with_the_engines_message(api, http_root):
    _, base_url = http_root
    with pytest.raises((RefusedError, NotFoundError)) as failure:
        images.import_image(api, f'{base_url}/missing.tar', None, None, None, Recorder())
    assert 'missing.tar' in str(failure.value)
    assert '404' in str(failure.value) or 'not found' in str(failure.value).lower()


@pytest.mark.smoke
def test_build_with_buildargs_labels_and_target(api, tmp_path, unique):
    (tmp_path / 'Dockerfile').write_text(
        'FROM docker-plugin/busybox:latest AS base\n'
        'ARG WHO=nobody\n'
        'RUN echo "built for $WHO" > /who\n'
        'FROM base AS final\n'
        'RUN echo final > /stage\n')
    log = Recorder()
    options = build_options({'path': str(tmp_path), 'tag': f'docker-plugin-test/{unique}',
                             'buildargs': {'WHO': unique}, 'target': 'base'})
    result = images.build_image(api, options, {'cloudify.deployment': unique}, log)
    try:
        info = api.inspect_image(result.id)
        assert info['Config']['Labels']['cloudify.deployment'] == unique
        assert any(line.endswith('RUN echo "built for $WHO" > /who') for line in log), log
        assert not any('RUN echo final' in line for line in log)  # target stopped the build
        container = api.create_container(result.id, command=['cat', '/who'],
                                         labels={'cloudify.deployment': unique})
        api.start(container)
        api.wait(container, timeout=30)
        assert api.logs(container).decode().strip() == f'built for {unique}'
        api.remove_container(container, force=True)
    finally:
        api.remove_image(result.id, force=True)


def test_failed_build_step_fails_with_that_step_and_its_output(api, tmp_path, docker_client):
    (tmp_path / 'Dockerfile').write_text(
        'FROM docker-plugin/busybox:latest\n'
        'RUN echo about to fail && echo "oops-marker" >&2 && exit 3\n')
    with pytest.raises(RefusedError) as failure:
        images.build_image(api, build_options({'path': str(tmp_path)}), {}, Recorder())
    message = str(failure.value)
    assert 'returned a non-zero code: 3' in message
    assert 'about to fail' in message  # the tail of the step's output
    # The failed step's intermediate container is not left behind (found by its
    # command: other tests may be making containers on this engine meanwhile).
    leftovers = [c for c in docker_client.containers.list(all=True)
                 if 'oops-marker' in ' '.join(c.attrs['Config'].get('Cmd') or [])]
    assert leftovers == []


def test_a_build_past_its_timeout_is_stopped(api, tmp_path):
    (tmp_path / 'Dockerfile').write_text('FROM docker-plugin/busybox:latest\nRUN sleep 20\n')
    from docker_plugin.errors import TimeoutExpired
    with pytest.raises(TimeoutExpired, match='not finished at its timeout'):
        images.build_image(api, build_options({'path': str(tmp_path)}), {}, Recorder(),
                           timeout=2)


def test_remove_image_in_use_names_the_problem(api, unique, labelled, rootfs_tar):
    image = images.import_image(api, str(rootfs_tar), f'docker-plugin-test/{unique}', 'in-use',
                                [f'LABEL cloudify.deployment={unique}'], Recorder()).id
    spec = specs.build({'create': {'command': ['true']}}, {}, {}, [], [], '')
    spec.name = None
    user, _ = containers.create(api, image, spec, labelled)
    try:
        with pytest.raises(StateError) as failure:
            images.remove_image(api, image)
        assert 'still used by containers' in str(failure.value) and image in str(failure.value)
        assert user[:12] in str(failure.value)  # the engine names the container
    finally:
        api.remove_container(user, force=True)
    assert images.remove_image(api, image) is True
    assert images.remove_image(api, image) is False
