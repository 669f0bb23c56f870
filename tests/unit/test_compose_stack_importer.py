"""``compose-to-blueprint --swarm`` without an engine: the kitchen sink as a stack.

Every value written must pass the plugin's own tables (the Service,
Network, Secret and Config nodes and their relationships would accept it),
what a swarm service cannot do must be listed, and secrets stay out. The
real run of a stack is tests/blueprints/test_imported_stack.py.
"""

from __future__ import annotations

import pytest
import yaml
from dsl_parser import parser as dsl_parser
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver
from test_compose_importer import LOCAL_TYPES, SECRET, TYPES_URL, _evaluate, _import

from docker_plugin.importer import cli
from docker_plugin.importer.stack_services import StackServiceMapping
from docker_plugin.options.network import ENDPOINT, NETWORK
from docker_plugin.options.service import FILE_USE, SERVICE
from docker_plugin.options.swarm import CONFIG
from docker_plugin.options.swarm import SECRET as SECRET_TABLE

NS = 'com.docker.stack.namespace'


@pytest.mark.compose
def test_the_kitchen_sink_as_a_stack_maps_to_values_the_plugin_accepts(tmp_path, monkeypatch,
                                                                      capsys):
    code, text, err = _import(tmp_path, monkeypatch, '--swarm', capsys=capsys)
    assert code == 0, err
    plan = yaml.safe_load(text)
    inputs = {k: v.get('default', f'given-{k}') for k, v in plan['inputs'].items()}
    inputs['manager'] = {}
    nodes = _evaluate(plan['node_templates'], inputs)
    kinds = {name: node['type'].rsplit('.', 1)[1] for name, node in nodes.items()}
    assert kinds == {'network_front': 'Network', 'network_outside': 'Network',
                     'secret_token': 'Secret', 'config_inline': 'Config', 'api': 'Service',
                     'db': 'Service', 'migrate': 'Service', 'sidecar': 'Service'}
    tables = {'connected_to_network': ENDPOINT, 'uses_secret': FILE_USE,
              'uses_config': FILE_USE}
    for name, node in nodes.items():
        props = node['properties']
        assert plan['node_templates'][name]['properties']['daemon_client'] == {
            'get_input': 'manager'}
        if kinds[name] == 'Service':
            SERVICE.validate(props['service_config'], f'{name}.service_config')
            assert props['name'] == f'sink_{name}'
            assert props['service_config']['labels'][NS] == 'sink'
        for rel in node.get('relationships', []):
            table = tables.get(rel['type'].rsplit('.', 1)[1])
            if table:
                table.validate(rel.get('properties'), f'{name} -> {rel["target"]}')
    NETWORK.validate(nodes['network_front']['properties']['network_config'], 'network_config')
    assert nodes['network_front']['properties']['network_config']['driver'] == 'overlay'
    assert nodes['network_outside']['properties'] == {
        'name': 'shared-outside', 'use_external_resource': True, 'daemon_client': {}}
    SECRET_TABLE.validate({k: v for k, v in nodes['secret_token']['properties'].items()
                           if k in SECRET_TABLE.names()}, 'secret')
    assert nodes['secret_token']['properties']['file'] == 'token.txt' or \
        nodes['secret_token']['properties']['file'].endswith('/token.txt')
    CONFIG.validate({k: v for k, v in nodes['config_inline']['properties'].items()
                     if k in CONFIG.names()}, 'config')
    assert nodes['config_inline']['properties']['data'] == 'hello'

    api = nodes['api']['properties']['service_config']
    assert api['image'] == 'sink/api:1.0' and api['replicas'] == 2
    assert api['env'] == {'GREETING': 'hello', 'MODE': 'from-env-file', 'PRICE': '5$'}
    assert api['secret_env'] == {'DB_PASSWORD': 'given-DB_PASSWORD',
                                 'API_TOKEN': 'given-api_API_TOKEN'}
    assert api['restart_policy'] == {'condition': 'on-failure', 'max_attempts': 3}
    assert api['stop_grace_period'] == '1m30s'
    assert api['resources'] == {'limits': {'pids': 100, 'cpus': 0.5, 'memory': 67108864},
                                'reservations': {'memory': 33554432}}
    assert api['placement'] == {'constraints': ['node.role==manager']}
    assert {m['target']: m['type'] for m in api['mounts']} == {
        '/data': 'volume', '/ctx': 'bind', '/anon': 'volume', '/scratch': 'tmpfs',
        '/run': 'tmpfs'}
    data = next(m for m in api['mounts'] if m['target'] == '/data')
    assert data['source'] == 'sink_data' and data['read_only'] is True
    assert data['driver_config'] == {'name': 'local', 'options': {'type': 'tmpfs',
                                                                   'device': 'tmpfs'}}
    assert data['labels'] == {NS: 'sink'}
    assert api['hosts'] == {'gateway': '10.0.0.1'}
    assert api['container_labels'] == {'tier': 'api'}
    relationships = {(r['type'].rsplit('.', 1)[1], r['target']): r.get('properties')
                     for r in nodes['api']['relationships']}
    assert relationships[('connected_to_network', 'network_front')] == {
        'aliases': ['api', 'gateway-api']}
    assert relationships[('uses_secret', 'secret_token')] == {'target': 'token'}
    assert relationships[('uses_config', 'config_inline')] == {'target': '/etc/inline'}
    assert {t for k, t in relationships if k == 'depends_on'} == {'db', 'migrate'}

    expected = [
        'services.api.build: not mapped (a swarm runs images from a registry: build and '
        'push it, then give the image)',
        'services.api.devices: not mapped (a swarm service has no such option)',
        'services.api.expose: not needed: tasks reach each other on their networks',
        'services.api.networks.front.ipv4_address: not mapped (the swarm gives the '
        'addresses)',
        'services.api.ports[1].host_ip: not mapped (a swarm publishes on every address)',
        'services.api.healthcheck.start_interval: not mapped',
        'services.sidecar.network_mode: not mapped (a swarm service joins overlay networks)',
        'services.sidecar.volumes_from: not mapped (a swarm service has no such option)',
        'services.debug: not imported (its profiles are not enabled)',
    ]
    head = text.split('\ntosca_definitions_version')[0]
    for note in expected:
        assert f'#   - {note}' in head, note
        assert f'compose-to-blueprint: not mapped: {note}' in err
    assert SECRET not in text and 'literal-token' not in text
    resolver = DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])
    parsed = dsl_parser.parse_from_path(str(tmp_path / 'blueprint.yaml'), resolver=resolver)
    assert {n['id'] for n in parsed['nodes']} >= {'api', 'db', 'secret_token'}


def _mapped(service, volumes=None):
    return StackServiceMapping('s', service, lambda key: {'source': f'p_{key}'}).map()


def test_restart_and_deploy_follow_the_docker_cli():
    assert _mapped({'restart': 'unless-stopped'}).config['restart_policy'] == {
        'condition': 'any'}
    assert _mapped({'restart': 'no'}).config['restart_policy'] == {'condition': 'none'}
    given = _mapped({'restart': 'always', 'deploy': {'restart_policy': {
        'condition': 'none'}}}).config
    assert given['restart_policy'] == {'condition': 'none'}  # deploy's wins
    mapped = _mapped({'deploy': {'mode': 'global', 'replicas': 3}})
    assert 'replicas' not in mapped.config and mapped.config['mode'] == 'global'
    assert mapped.notes == ['services.s.deploy.replicas: ignored: a global service runs one '
                            'task per node']
    ports = _mapped({'ports': [{'target': 80, 'published': '8000-8001'}]})
    assert ports.config['ports'] == [{'target': 80, 'protocol': 'tcp', 'mode': 'ingress',
                                      'published': 8000}]
    assert 'range 8000-8001' in ports.notes[0]
    for config in (_mapped({'restart': 'unless-stopped', 'ports': [
            {'target': 80, 'published': '8000', 'mode': 'host'}]}).config,):
        SERVICE.validate({'image': 'x', **config}, 'service_config')


@pytest.mark.compose
def test_keys_that_name_one_secret_share_its_node(tmp_path, capsys):
    (tmp_path / 'pw.txt').write_text('x')
    (tmp_path / 'compose.yaml').write_text(
        'services:\n'
        '  a: {image: "x:1", secrets: [one]}\n'
        '  b: {image: "x:1", secrets: [two]}\n'
        'secrets:\n'
        '  one: {file: ./pw.txt, name: shared-pw}\n'
        '  two: {file: ./pw.txt, name: shared-pw}\n')
    out = tmp_path / 'stack.yaml'
    code = cli.main(['--swarm', '-f', str(tmp_path / 'compose.yaml'), '-o', str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    nodes = yaml.safe_load(out.read_text())['node_templates']
    assert [n for n, node in nodes.items() if node['type'].endswith('Secret')] == ['secret_one']
    for service in ('a', 'b'):
        assert [r['target'] for r in nodes[service]['relationships']
                if r['type'].endswith('uses_secret')] == ['secret_one']
    assert 'secrets.two: the same secret as secrets.one (shared-pw): one node' in err
