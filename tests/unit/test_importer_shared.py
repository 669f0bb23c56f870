"""What the importer shares between services, and how it waits for each.

One Image node per distinct image (pulled or built), related to every
container that runs it; a readiness wait for every service, as ``docker
compose up --wait`` would, that honours a healthcheck the image defines.
Without an engine: compose itself reads the files (``config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from docker_plugin.importer import cli
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_NODE, IMAGE_PULL
from docker_plugin.options.lifecycle import wait_for

pytestmark = pytest.mark.compose  # the importer runs compose config
REPO = Path(__file__).resolve().parents[2]
USES_IMAGE = 'cloudify.relationships.docker.uses_image'


def import_file(tmp_path: Path, compose: dict[str, Any], capsys, *args: str,
                files: dict[str, str] | None = None) -> tuple[dict[str, Any], str, str]:
    """(plan, text, stderr) of the blueprint written for ``compose``."""
    (tmp_path / 'compose.yaml').write_text(yaml.safe_dump(compose))
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out = tmp_path / 'blueprint.yaml'
    code = cli.main(['-f', str(tmp_path / 'compose.yaml'), '-o', str(out), '--plugin-yaml',
                     str(REPO / 'plugin.yaml'), *args])
    err = capsys.readouterr().err
    assert code == 0, err
    text = out.read_text()
    return yaml.safe_load(text), text, err


def images_of(plan: dict[str, Any]) -> dict[str, list[str]]:
    """{Image node: [containers that use it]}."""
    found: dict[str, list[str]] = {n: [] for n, node in plan['node_templates'].items()
                                   if node['type'] == 'cloudify.nodes.docker.Image'}
    for name, node in sorted(plan['node_templates'].items()):
        for rel in node.get('relationships', []):
            if rel['type'] == USES_IMAGE:
                found[rel['target']].append(name)
    return found


NETBOX_LIKE = {
    'name': 'nb',
    'x-app': {'image': 'docker.io/netboxcommunity/netbox:v4.1'},
    'services': {
        'netbox': {'image': 'docker.io/netboxcommunity/netbox:v4.1'},
        'netbox-worker': {'image': 'netboxcommunity/netbox:v4.1', 'command': ['rqworker'],
                          'depends_on': {'netbox': {'condition': 'service_healthy'}}},
        'netbox-housekeeping': {'image': 'docker.io/netboxcommunity/netbox:v4.1',
                                'pull_policy': 'always'},
        'redis': {'image': 'docker.io/library/valkey:8'},
        'redis-cache': {'image': 'valkey:8'},
        'postgres': {'image': 'postgres'},
        'postgres-replica': {'image': 'postgres:latest', 'pull_policy': 'never'},
    }}


def test_one_image_node_per_distinct_pulled_image_used_by_every_container(tmp_path, capsys):
    plan, _, err = import_file(tmp_path, NETBOX_LIKE, capsys)
    assert images_of(plan) == {
        'netbox_image': ['netbox', 'netbox-housekeeping', 'netbox-worker'],
        'postgres_image': ['postgres', 'postgres-replica'],
        'redis_image': ['redis', 'redis-cache']}
    nodes = plan['node_templates']
    for name in images_of(plan):
        IMAGE_NODE.parse({k: v for k, v in nodes[name]['properties'].items()
                          if k in IMAGE_NODE.names()})
        IMAGE_PULL.parse(nodes[name]['properties']['image_pull'], f'{name}.image_pull')
    # One explicit policy for an image wins; two different ones are said, pulled when missing.
    assert nodes['netbox_image']['properties'] == {
        'image_pull': {'repository': 'docker.io/netboxcommunity/netbox:v4.1',
                       'policy': 'always'}, 'keep_locally': True}
    assert nodes['redis_image']['properties']['image_pull'] == {
        'repository': 'docker.io/library/valkey:8', 'policy': 'missing'}
    assert nodes['postgres_image']['properties']['image_pull']['policy'] == 'never'
    for name in ('netbox', 'netbox-worker', 'redis'):
        assert 'image' not in nodes[name]['properties']['container_config']
        assert 'image_pull' not in nodes[name]['properties']
    assert 'one Image node (netbox_image) for all of them, pulled once if missing' in err


def test_builds_are_made_once_for_every_service_that_runs_them(tmp_path, capsys):
    files = {'app/Dockerfile': 'FROM scratch\n', 'other/Dockerfile': 'FROM scratch\n'}
    compose = {'name': 'shop', 'services': {
        # image + build: built once, and the services that only name the image use it
        'api': {'build': {'context': './app', 'target': 'final'}, 'image': 'shop/app:1'},
        'api-worker': {'image': 'shop/app:1', 'command': ['work']},
        'api-admin': {'build': {'context': './other'}, 'image': 'shop/app:1'},
        # the same build without an image: one build, a tag per service (as compose names)
        'cron': {'build': './other'}, 'cron-b': {'build': './other'},
        'lone': {'build': './app'}}}
    plan, _, err = import_file(tmp_path, compose, capsys, files=files)
    assert images_of(plan) == {'api_image': ['api', 'api-admin', 'api-worker'],
                               'cron_image': ['cron', 'cron-b'], 'lone_image': ['lone']}
    nodes = plan['node_templates']
    assert nodes['api_image']['properties'] == {'image_build': {
        'path': 'app', 'dockerfile': 'Dockerfile', 'target': 'final', 'tag': 'shop/app:1'}}
    cron = nodes['cron_image']['properties']
    assert cron['image_build']['tag'] == {'concat': [{'get_input': 'project_name'}, '-cron']}
    assert cron['tags'] == [{'concat': [{'get_input': 'project_name'}, '-cron-b']}]
    for name in images_of(plan):
        IMAGE_BUILD.parse({**nodes[name]['properties']['image_build'], 'tag': 'x:1'}, name)
    assert ('services.api-admin.build: image shop/app:1 is built once, from '
            'services.api.build (this one differs)') in err


def test_every_service_waits_as_up_wait_would_and_says_so_for_image_healthchecks(
        tmp_path, capsys):
    compose = {'name': 'w', 'services': {
        'server': {'image': 'app:1', 'healthcheck': {'disable': False}},
        'tuned': {'image': 'app:1', 'healthcheck': {'interval': '5s', 'retries': 3}},
        'off': {'image': 'app:1', 'healthcheck': {'disable': True}},
        'db': {'image': 'db:1', 'healthcheck': {'test': ['CMD', 'true']}},
        'init': {'image': 'app:1'},
        'seed': {'image': 'app:1', 'restart': 'no', 'profiles': ['seed']},
        'web': {'image': 'app:1', 'depends_on': {
            'db': {'condition': 'service_healthy'},
            'init': {'condition': 'service_completed_successfully'}}}}}
    plan, text, err = import_file(tmp_path, compose, capsys, '--profile', 'seed',
                                  '--wait-timeout', '90')
    waits = {name: node['properties'].get('wait_for') for name, node in
             plan['node_templates'].items() if node['type'].endswith('Container')}
    assert waits == {
        # its healthcheck (the engine's defaults: interval and timeout 30s, 3 retries)
        # may take 120s to decide: the wait is not cut shorter than that
        'db': {'condition': 'healthy', 'timeout': 120},
        'init': {'condition': 'exited', 'exit_code': 0, 'timeout': 90},
        **{name: {'condition': 'ready', 'timeout': 90}
           for name in ('off', 'seed', 'server', 'tuned', 'web')}}
    for name, wait in waits.items():
        wait_for(wait, f'{name}.wait_for')
    nodes = plan['node_templates']
    assert 'healthcheck' not in nodes['server']['properties']['container_config']
    assert nodes['off']['properties']['container_config']['healthcheck'] == {'test': ['NONE']}
    assert ('services.server: no healthcheck test in the file: waits until healthy if its '
            'image defines a healthcheck (as up --wait does), else until running') in err
    assert '#   - services.server: no healthcheck test in the file' in text
    for key in ('interval', 'retries'):
        assert (f"services.tuned.healthcheck.{key}: not mapped without a test (the image's "
                'healthcheck, if it has one, keeps its own)') in err
    assert 'services.off: no healthcheck test' not in err
    assert 'done: services.db: waits up to 120s, as long as its healthcheck may take' in err


def test_the_blueprint_parses(tmp_path, capsys):
    from dsl_parser import parser as dsl_parser
    from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver
    types_url = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
    local_types = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'
    import_file(tmp_path, NETBOX_LIKE, capsys)
    resolver = DefaultImportResolver(rules=[{types_url: local_types.as_uri()}])
    parsed = dsl_parser.parse_from_path(str(tmp_path / 'blueprint.yaml'), resolver=resolver)
    assert {n['id'] for n in parsed['nodes']} >= {'netbox_image', 'netbox', 'redis_image'}


def test_mount_options_are_mapped_or_said(tmp_path, capsys):
    compose = {'name': 'm', 'services': {'a': {'image': 'x:1', 'volumes': [
        '/srv/conf:/etc/conf:z,ro',  # NetBox's configuration mount
        {'type': 'bind', 'source': '/srv/b', 'target': '/b', 'consistency': 'cached',
         'bind': {'propagation': 'rslave', 'selinux': 'Z'}},
        {'type': 'tmpfs', 'target': '/t', 'tmpfs': {'size': 1000, 'mode': 1777}},
        {'type': 'volume', 'source': 'data', 'target': '/d',
         'volume': {'nocopy': True, 'labels': {'a': 'b'}}}]}},
        'volumes': {'data': {}}}
    plan, _, err = import_file(tmp_path, compose, capsys)
    config = plan['node_templates']['a']['properties']['container_config']
    assert config['binds'] == ['/srv/conf:/etc/conf:ro,z', '/srv/b:/b:rw,rslave,Z']
    assert config['tmpfs'] == {'/t': 'size=1000'}
    from docker_plugin.options.container import CONTAINER
    CONTAINER.validate({**config, 'name': 'm-a'}, 'container_config')
    for note in ('services.a.volumes[1].consistency: not mapped',
                 'services.a.volumes[2].tmpfs.mode: not mapped',
                 'services.a.volumes[3].volume.labels: not mapped'):
        assert f'not mapped: {note}' in err
    (mount,) = [r for r in plan['node_templates']['a']['relationships']
                if r['type'].endswith('mounts_volume')]
    assert mount['properties'] == {'target': '/d', 'no_copy': True}


def test_keys_that_name_one_network_or_volume_share_its_node(tmp_path, capsys):
    compose = {'name': 'k', 'services': {
        'a': {'image': 'x:1', 'networks': ['front'], 'volumes': ['data:/d']},
        'b': {'image': 'x:1', 'networks': ['edge'], 'volumes': ['cache:/c']}},
        'networks': {'front': {'name': 'shared-net'}, 'edge': {'name': 'shared-net'}},
        'volumes': {'data': {'name': 'shared-vol'}, 'cache': {'name': 'shared-vol'}}}
    plan, _, err = import_file(tmp_path, compose, capsys)
    nodes = plan['node_templates']
    assert [n for n, node in nodes.items() if node['type'].endswith('Network')] == \
        ['network_edge']
    assert [n for n, node in nodes.items() if node['type'].endswith('Volume')] == \
        ['volume_cache']
    targets = {name: sorted(r['target'] for r in nodes[name]['relationships']
                            if not r['type'].endswith('uses_image')) for name in ('a', 'b')}
    assert targets == {'a': ['network_edge', 'volume_cache'],
                       'b': ['network_edge', 'volume_cache']}
    assert 'networks.front: the same network as networks.edge (shared-net): one node' in err
