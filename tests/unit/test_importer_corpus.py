"""What compose-to-blueprint writes for the real-world files of ``tests/corpus/compose``,
without an engine: blueprints that parse and that the plugin's option tables accept, no
secret value in them, one Image node per distinct image, and each service's wait.
(``tests/blueprints/test_compose_corpus.py`` installs them.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dsl_parser import parser as dsl_parser
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver
from helpers import corpus
from test_importer_secrets import evaluate

from docker_plugin.importer import cli
from docker_plugin.importer.blueprint import Builder
from docker_plugin.importer.secret_spans import distinctive
from docker_plugin.importer.source import read
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_PULL
from docker_plugin.options.lifecycle import wait_for

pytestmark = pytest.mark.compose  # the importer runs compose config
REPO = Path(__file__).resolve().parents[2]
TYPES_URL = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
LOCAL_TYPES = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'
PROJECTS = corpus.projects()


def _imported(name: str, tmp_path: Path) -> tuple[dict[str, Any], Any, str]:
    case = PROJECTS[name]
    directory = corpus.copy_project(name, case, tmp_path)
    source = read([str(directory / f) for f in case['files']], {'PATH': '/usr/bin:/bin'},
                  profiles=case.get('profiles', []))
    result = Builder(source, str(directory)).build()
    text = cli.render(source, result, str(REPO / 'plugin.yaml'))
    (directory / 'blueprint.yaml').write_text(text)
    return yaml.safe_load(text), result, str(directory / 'blueprint.yaml')


def _images(plan: dict[str, Any]) -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for name, node in sorted(plan['node_templates'].items()):
        for rel in node.get('relationships', []):
            if rel['type'].endswith('uses_image'):
                used.setdefault(rel['target'], []).append(name)
    return used


@pytest.mark.parametrize('name', sorted(PROJECTS))
def test_every_corpus_blueprint_parses_and_holds_no_secret(name, tmp_path):
    plan, result, path = _imported(name, tmp_path)
    text = Path(path).read_text()
    for value in result.secret_values.values():
        assert not distinctive(value) or value not in text
    resolver = DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])
    dsl_parser.parse_from_path(path, resolver=resolver)
    given = {**{k: v.get('default') for k, v in plan['inputs'].items()},
             **result.secret_values}
    for node_name, node in evaluate(plan['node_templates'], given).items():
        props = node['properties']
        if node['type'].endswith('Container'):
            CONTAINER.validate(props['container_config'], f'{node_name}.container_config')
            wait_for(props['wait_for'], f'{node_name}.wait_for')
        elif node['type'].endswith('Image'):
            if 'image_pull' in props:
                IMAGE_PULL.parse(props['image_pull'], node_name)
            else:
                IMAGE_BUILD.parse(props['image_build'], node_name)
    # Every container uses exactly one Image node, and every Image node is used.
    used = _images(plan)
    containers = [n for n, node in plan['node_templates'].items()
                  if node['type'].endswith('Container')]
    assert sorted(c for users in used.values() for c in users) == sorted(containers)
    assert set(used) == {n for n, node in plan['node_templates'].items()
                         if node['type'].endswith('Image')}


def test_airflow_five_services_one_image_one_database_password(tmp_path):
    plan, result, _ = _imported('airflow', tmp_path)
    assert _images(plan)['airflow-init_image'] == [
        'airflow-init', 'airflow-scheduler', 'airflow-triggerer', 'airflow-webserver',
        'airflow-worker']
    nodes = plan['node_templates']
    assert nodes['airflow-init']['properties']['wait_for']['condition'] == 'exited'
    assert nodes['postgres']['properties']['wait_for']['condition'] == 'healthy'
    assert nodes['airflow-webserver']['properties']['wait_for']['condition'] == 'ready'
    # The database password: one input for POSTGRES_PASSWORD and the two URLs in every
    # Airflow service; the web user's password is a variable of its own.
    assert result.secret_values == {'postgres_POSTGRES_PASSWORD': 'airflow',
                                    '_AIRFLOW_WWW_USER_PASSWORD': 'airflow'}
    worker = nodes['airflow-worker']['properties']['container_config']
    assert worker['secret_environment']['AIRFLOW__CELERY__RESULT_BACKEND'] == {'concat': [
        'db+postgresql://airflow:', {'get_input': 'postgres_POSTGRES_PASSWORD'},
        '@postgres/airflow']}
    assert worker['environment']['AIRFLOW__CELERY__BROKER_URL'] == 'redis://:@redis:6379/0'
    assert worker['environment']['AIRFLOW__CORE__FERNET_KEY'] == ''


def test_netbox_shares_its_image_and_keeps_each_password_one(tmp_path):
    plan, result, _ = _imported('netbox', tmp_path)
    used = _images(plan)
    assert used['netbox_image'] == ['netbox', 'netbox-housekeeping', 'netbox-worker']
    assert used['redis_image'] == ['redis', 'redis-cache']
    assert sorted(result.secret_values) == ['netbox_DB_PASSWORD', 'netbox_REDIS_CACHE_PASSWORD',
                                            'netbox_REDIS_PASSWORD', 'netbox_SECRET_KEY']
    nodes = plan['node_templates']
    assert nodes['postgres']['properties']['container_config']['secret_environment'] == {
        'POSTGRES_PASSWORD': {'get_input': 'netbox_DB_PASSWORD'}}
    assert nodes['redis-cache']['properties']['container_config']['secret_environment'] == {
        'REDIS_PASSWORD': {'get_input': 'netbox_REDIS_CACHE_PASSWORD'}}
    # start_period 90s, interval 15s, 3 retries, timeout 3s: 138s, past the default 120s
    assert nodes['netbox']['properties']['wait_for'] == {'condition': 'healthy',
                                                         'timeout': 138}
    binds = nodes['netbox']['properties']['container_config']['binds']
    assert binds == [{'concat': [{'get_input': 'project_directory'},
                                 '/configuration:/etc/netbox/config:ro,z']}]


def test_immich_waits_for_the_healthchecks_its_images_define(tmp_path):
    plan, result, _ = _imported('immich', tmp_path)
    nodes = plan['node_templates']
    for name in ('immich-server', 'immich-machine-learning', 'database', 'redis'):
        assert nodes[name]['properties']['wait_for']['condition'] == 'ready'
        assert 'healthcheck' not in nodes[name]['properties']['container_config'] or \
            name == 'redis'
    assert any(r.startswith('services.immich-server: no healthcheck test in the file: waits '
                            'until healthy if its image defines a healthcheck')
               for r in result.remarks)
    # DB_PASSWORD interpolates the database's POSTGRES_PASSWORD and reaches the server
    # through env_file .env: one secret, under the variable's name.
    assert result.secret_values == {'DB_PASSWORD': 'postgres'}
    server = nodes['immich-server']['properties']['container_config']
    assert server['secret_environment'] == {'DB_PASSWORD': {'get_input': 'DB_PASSWORD'}}


def test_the_voting_seed_completes_and_its_builds_keep_their_targets(tmp_path):
    plan, _, _ = _imported('voting-app+seed', tmp_path)
    nodes = plan['node_templates']
    assert nodes['seed']['properties']['wait_for']['condition'] == 'ready'
    assert nodes['vote_image']['properties']['image_build']['target'] == 'dev'
    assert set(_images(plan)) == {'db_image', 'redis_image', 'result_image', 'seed_image',
                                  'vote_image', 'worker_image'}
