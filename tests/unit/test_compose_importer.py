"""The importer without an engine: what it maps, what it reports, what it never writes.

``files/compose/kitchen-sink`` says most of what a compose file can say. The
blueprint written for it must parse, every value in it must pass the
plugin's own option tables (so install would not refuse it), everything not
mapped must be listed (at the top of the file and on stderr), and secret
values must not be in it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dsl_parser import parser as dsl_parser
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

from docker_plugin.importer import cli
from docker_plugin.importer.blueprint import Builder
from docker_plugin.importer.source import read
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.image import IMAGE_BUILD, IMAGE_PULL
from docker_plugin.options.lifecycle import STOP, wait_for
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.options.volume import MOUNT, VOLUME

pytestmark = pytest.mark.compose  # the importer runs compose config
REPO = Path(__file__).resolve().parents[2]
SINK = Path(__file__).parent / 'files' / 'compose' / 'kitchen-sink'
WEBAPP = REPO / 'blueprints' / 'resources' / 'compose' / 'webapp'
TYPES_URL = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
LOCAL_TYPES = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'
SECRET = 'db-secret-not-in-the-blueprint'


def _import(tmp_path: Path, monkeypatch, *args: str, files=(SINK / 'compose.yaml',),
            env: dict[str, str] | None = None, capsys=None) -> tuple[int, str, str]:
    for name, value in (env if env is not None else {'DB_PASSWORD': SECRET}).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / 'blueprint.yaml'
    argv = [a for f in files for a in ('-f', str(f))]
    code = cli.main([*argv, '-o', str(out), '--plugin-yaml', str(REPO / 'plugin.yaml'), *args])
    err = capsys.readouterr().err if capsys else ''
    return code, out.read_text() if out.exists() else '', err


def _evaluate(value: Any, inputs: dict[str, Any]) -> Any:
    """get_input and concat, as Cloudify evaluates them."""
    if isinstance(value, dict) and set(value) == {'get_input'}:
        return inputs[value['get_input']]
    if isinstance(value, dict) and set(value) == {'concat'}:
        return ''.join(str(_evaluate(v, inputs)) for v in value['concat'])
    if isinstance(value, dict):
        return {k: _evaluate(v, inputs) for k, v in value.items()}
    if isinstance(value, list):
        return [_evaluate(v, inputs) for v in value]
    return value


def test_the_kitchen_sink_maps_to_values_the_plugin_accepts(tmp_path, monkeypatch, capsys):
    code, text, err = _import(tmp_path, monkeypatch, capsys=capsys)
    assert code == 0, err
    plan = yaml.safe_load(text)
    inputs = {k: v.get('default', f'given-{k}') for k, v in plan['inputs'].items()}
    nodes = _evaluate(plan['node_templates'], inputs)
    kinds = {name: node['type'].rsplit('.', 1)[1] for name, node in nodes.items()}
    assert kinds == {'network_front': 'Network', 'network_outside': 'Network',
                     'volume_data': 'Volume', 'api_image': 'Image', 'db_image': 'Image',
                     'api': 'Container', 'db': 'Container', 'migrate': 'Container',
                     'sidecar': 'Container'}
    for name, node in nodes.items():
        props = node['properties']
        if kinds[name] == 'Container':
            CONTAINER.validate(props['container_config'], f'{name}.container_config')
            STOP.parse(props.get('container_stop'), f'{name}.container_stop')
            wait_for(props.get('wait_for'), f'{name}.wait_for')
        if 'image_pull' in props:
            IMAGE_PULL.parse(props['image_pull'], f'{name}.image_pull')
        for rel in node.get('relationships', []):
            table = {'connected_to_network': ENDPOINT, 'mounts_volume': MOUNT}.get(
                rel['type'].rsplit('.', 1)[1])
            if table:
                table.validate(rel.get('properties'), f'{name} -> {rel["target"]}')
    IMAGE_BUILD.parse(nodes['api_image']['properties']['image_build'], 'image_build')
    NETWORK.validate(nodes['network_front']['properties']['network_config'], 'network_config')
    VOLUME.validate(nodes['volume_data']['properties']['volume_config'], 'volume_config')

    api = nodes['api']['properties']
    config = api['container_config']
    assert config['name'] == 'sink-api' and nodes['db']['properties']['container_config'][
        'name'] == 'sink-db'
    assert config['port_bindings'] == {80: 8080, '9000/udp': ['127.0.0.1', 9000],
                                       '9001/udp': ['127.0.0.1', 9001], 3000: None}
    assert config['environment'] == {'GREETING': 'hello', 'MODE': 'from-env-file',
                                     'PRICE': '5$'}
    assert config['secret_environment'] == {'DB_PASSWORD': 'given-DB_PASSWORD',
                                            'API_TOKEN': 'given-api_API_TOKEN'}
    assert config['restart_policy'] == 'on-failure:3' and config['stop_timeout'] == 90
    assert api['container_stop'] == {'timeout': 90}
    assert (config['nano_cpus'], config['mem_limit'], config['mem_reservation'],
            config['pids_limit']) == (500000000, '67108864', '33554432', 100)
    assert f'{SINK}/ctx:/ctx:rw' in config['binds']
    assert f'{SINK}/token.txt:/run/secrets/token:ro' in config['binds']
    assert nodes['api']['capabilities'] == {'scalable': {'properties': {
        'default_instances': 2}}}
    relationships = {(r['type'].rsplit('.', 1)[1], r['target']): r.get('properties')
                     for r in nodes['api']['relationships']}
    assert relationships[('connected_to_network', 'network_front')] == {
        'aliases': ['api', 'gateway-api'], 'ipv4_address': '10.9.0.5'}
    assert relationships[('mounts_volume', 'volume_data')] == {'target': '/data',
                                                               'read_only': True}
    assert {t for k, t in relationships if k == 'depends_on'} == {'db', 'migrate'}
    # Readiness: what others wait for, as compose would.
    assert nodes['db']['properties']['wait_for']['condition'] == 'healthy'
    assert nodes['migrate']['properties']['wait_for'] == {'condition': 'exited',
                                                          'exit_code': 0, 'timeout': 120}
    assert nodes['sidecar']['properties']['container_config']['network_mode'] == \
        'container:sink-db'
    assert nodes['sidecar']['properties']['container_config']['volumes_from'] == ['sink-db:ro']
    # One Image node per distinct image, used by every container that runs it.
    assert nodes['db_image']['properties'] == {'image_pull': {
        'repository': 'docker-plugin/busybox:latest', 'policy': 'always'}, 'keep_locally': True}
    for name in ('db', 'migrate', 'sidecar'):
        assert {'type': 'cloudify.relationships.docker.uses_image', 'target': 'db_image'} in \
            nodes[name]['relationships']
        assert 'image' not in nodes[name]['properties']['container_config']
    assert nodes['network_outside']['properties'] == {'name': 'shared-outside',
                                                      'use_external_resource': True}
    assert plan['node_templates']['network_front']['properties']['name'] == {
        'concat': [{'get_input': 'project_name'}, '_front']}

    # Nothing is dropped silently: each of these is at the top of the file and on stderr.
    expected = [
        'services.api.build.ssh: not mapped',
        'services.api.configs[0]: a config from content is not mapped (only files are)',
        'services.api.depends_on.db.restart: not mapped',
        'services.api.deploy.placement: not mapped (Swarm only)',
        'services.api.develop: not mapped (no Container option does this)',
        'services.api.healthcheck.start_interval: not mapped',
        'services.api.links: not mapped (service names are network aliases already)',
        'services.debug: not imported (its profiles are not enabled)',
    ]
    head = text.split('\ntosca_definitions_version')[0]
    for note in expected:
        assert f'#   - {note}' in head
        assert f'compose-to-blueprint: not mapped: {note}' in err
    assert SECRET not in text and 'literal-token' not in text


def test_the_blueprint_parses_and_get_secret_mode_names_secrets(tmp_path, monkeypatch):
    code, text, _ = _import(tmp_path, monkeypatch, '--secrets', 'get_secret')
    assert code == 0
    plan = yaml.safe_load(text)
    assert plan['node_templates']['api']['properties']['container_config'][
        'secret_environment'] == {'DB_PASSWORD': {'get_secret': 'db_password'},
                                  'API_TOKEN': {'get_secret': 'api_api_token'}}
    assert 'DB_PASSWORD' not in plan['inputs']
    code, _, _ = _import(tmp_path, monkeypatch)
    resolver = DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])
    parsed = dsl_parser.parse_from_path(str(tmp_path / 'blueprint.yaml'), resolver=resolver)
    assert {n['id'] for n in parsed['nodes']} >= {'api', 'db', 'migrate', 'sidecar'}


def test_files_compose_refuses_and_missing_variables_fail_clearly(tmp_path, monkeypatch,
                                                                  capsys):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('services:\n  web:\n    image: x\n    colour: red\n')
    code, text, err = _import(tmp_path, monkeypatch, files=(bad,), capsys=capsys)
    assert code == 2 and text == ''
    assert "compose refused the project: validating" in err
    assert "additional properties 'colour' not allowed" in err
    monkeypatch.delenv('DB_PASSWORD', raising=False)
    code, _, err = _import(tmp_path, monkeypatch, env={}, capsys=capsys)
    assert code == 2
    assert 'required variable DB_PASSWORD is missing a value: set it' in err


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name('compose-to-blueprint')
    result = subprocess.run([str(script), '--help'], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and 'compose-to-blueprint' in result.stdout


def test_the_shipped_imported_blueprint_is_what_the_importer_writes(monkeypatch):
    """blueprints/compose-imported.yaml is the importer's output for the webapp example:
    in blueprints/, DB_PASSWORD=x compose-to-blueprint -f resources/compose/webapp/compose.yaml
    --plugin-yaml ../plugin.yaml --project-directory-default /srv/webapp -o compose-imported.yaml
    """
    monkeypatch.chdir(REPO / 'blueprints')
    source = read(['resources/compose/webapp/compose.yaml'], {'DB_PASSWORD': 'x'})
    result = Builder(source, str(REPO / 'blueprints'), directory_default='/srv/webapp').build()
    text = cli.render(source, result, '../plugin.yaml')
    assert text == (REPO / 'blueprints' / 'compose-imported.yaml').read_text()
