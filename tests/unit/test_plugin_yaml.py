"""plugin.yaml is what its generator writes from the registry, declares the package setup.py
builds, parses in a blueprint of each DSL version, and every shipped blueprint parses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dsl_parser import parser as dsl_parser
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

from docker_plugin import PACKAGE_NAME, __version__

REPO = Path(__file__).resolve().parents[2]
PLUGIN = yaml.safe_load((REPO / 'plugin.yaml').read_text())
TYPES_URL = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
UPSTREAM_LAST_MAJOR = 2  # cloudify-cosmo/cloudify-docker-plugin 2.0.16
VARIANTS = {'plugin.yaml': '1_3', 'v2_plugin.yaml': '1_4', 'plugin_1_4.yaml': '1_4',
            'plugin_1_5.yaml': '1_5'}
LOCAL_TYPES = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'


def test_plugin_yaml_is_what_the_generator_writes():
    result = subprocess.run([sys.executable, str(REPO / 'scripts' / 'plugin_yaml.py'),
                             '--check'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope='module')
def setup_identity():
    """(name, version) as setup.py gives them to pip and wagon."""
    out = subprocess.run([sys.executable, 'setup.py', '--name', '--version'], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    name, version = out.split()[-2:]
    return name, version


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_every_plugin_yaml_declares_the_package_setup_py_builds(variant, setup_identity):
    """A manager finds the wagon for a blueprint by the plugin yaml's package_name and
    package_version: they must be what setup.py builds, in every variant, written as
    strings (``3.0`` unquoted would be a float the DSL refuses)."""
    text = (REPO / variant).read_text()
    plugin = yaml.safe_load(text)['plugins']['docker']
    assert plugin['executor'] == 'central_deployment_agent'
    assert (plugin['package_name'], plugin['package_version']) == setup_identity
    assert (PACKAGE_NAME, __version__) == setup_identity


def test_the_version_line_is_above_the_upstream_plugins():
    """Same package name as cloudify-cosmo's plugin (2.0.16 its last), which this one
    succeeds: a manager that holds both resolves ``plugin:cloudify-docker-plugin`` to
    the highest version, so ours must stay above that line (README: migration)."""
    major = int(__version__.split('.')[0])
    assert major >= UPSTREAM_LAST_MAJOR + 1
    assert re.fullmatch(r'[0-9]+\.[0-9]+\.[0-9]+', __version__)


def test_the_seed_names_stay_importable():
    from docker_plugin import tasks
    for name in ('create', 'configure', 'run', 'stop', 'delete'):
        assert callable(getattr(tasks, name))


@pytest.mark.parametrize('blueprint', sorted(p.name for p in (REPO / 'blueprints').glob('*.yaml')))
def test_every_blueprint_parses_offline(blueprint):
    resolver = DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])
    plan = dsl_parser.parse_from_path(str(REPO / 'blueprints' / blueprint), resolver=resolver)
    assert plan['nodes']



def _without_dsl_typing(document):
    """A plugin yaml with what only a DSL version allows taken out."""
    for workflow in document['workflows'].values():
        workflow.pop('availability_rules', None)
        for parameter in workflow['parameters'].values():
            parameter.pop('type', None)
            parameter.pop('item_type', None)
    return document


def test_the_variants_differ_only_where_their_dsl_allows():
    base = _without_dsl_typing(yaml.safe_load((REPO / 'plugin.yaml').read_text()))
    for name in VARIANTS:
        variant = yaml.safe_load((REPO / name).read_text())
        assert _without_dsl_typing(variant) == base, name
    rules = yaml.safe_load((REPO / 'plugin_1_5.yaml').read_text())['workflows'][
        'docker_logs']
    assert rules['availability_rules']['node_types_required'] == [
        'cloudify.nodes.docker.Container']
    assert rules['parameters']['node_instance_ids']['item_type'] == 'node_instance'


def _types_for(dsl, tmp_path):
    """The offline types as a manager of that DSL version would have them."""
    text = LOCAL_TYPES.read_text()
    if dsl != '1_5':  # managers before 7 had no operation_name parameter type
        text = text.replace('type: operation_name', 'type: string')
        text = text.replace('cloudify_dsl_1_4', f'cloudify_dsl_{dsl}')
    path = tmp_path / f'types-{dsl}.yaml'
    path.write_text(text)
    return path


@pytest.mark.parametrize(('variant', 'dsl'), sorted(VARIANTS.items()))
def test_every_variant_parses_in_a_blueprint_of_its_dsl(variant, dsl, tmp_path):
    blueprint = tmp_path / 'bp.yaml'
    blueprint.write_text(f"""tosca_definitions_version: cloudify_dsl_{dsl}
imports:
  - {_types_for(dsl, tmp_path).as_uri()}
  - {(REPO / variant).as_uri()}
node_templates:
  net: {{type: cloudify.nodes.docker.Network}}
  img: {{type: cloudify.nodes.docker.Image, properties: {{image_pull: {{repository: x}}}}}}
  web:
    type: cloudify.nodes.docker.Container
    relationships:
      - {{type: cloudify.relationships.docker.connected_to_network, target: net}}
      - {{type: cloudify.relationships.docker.uses_image, target: img}}
""")
    plan = dsl_parser.parse_from_path(str(blueprint))
    assert 'docker_logs' in plan['workflows']
    # what the manager looks the wagon up by, as the parser hands it over
    (plugin,) = plan['deployment_plugins_to_install']
    assert (plugin['package_name'], plugin['package_version']) == (PACKAGE_NAME, __version__)


def test_the_offline_types_keep_the_real_ones_version_trap(tmp_path):
    """Like Cloudify 7's types.yaml, the stand-in needs a cloudify_dsl_1_5 blueprint."""
    from dsl_parser.exceptions import DSLParsingException
    blueprint = tmp_path / 'bp.yaml'
    blueprint.write_text(f'tosca_definitions_version: cloudify_dsl_1_4\nimports:\n'
                         f'  - {LOCAL_TYPES.as_uri()}\n'
                         'node_templates:\n  n: {type: cloudify.nodes.Root}\n')
    with pytest.raises(DSLParsingException, match='operation_name'):
        dsl_parser.parse_from_path(str(blueprint))
