"""plugin.yaml mirrors the package, and every blueprint parses."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from dsl_parser import parser as dsl_parser
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

from docker_plugin import client

REPO = Path(__file__).resolve().parents[2]
PLUGIN = yaml.safe_load((REPO / 'plugin.yaml').read_text())
TYPES_URL = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
LOCAL_TYPES = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'


def _mappings():
    sections = list(PLUGIN.get('node_types', {}).values())
    for rel in PLUGIN.get('relationships', {}).values():
        sections.append({'interfaces': {**rel.get('source_interfaces', {}),
                                        **rel.get('target_interfaces', {})}})
    for section in sections:
        for interface in (section.get('interfaces') or {}).values():
            for op in interface.values():
                yield op['implementation'] if isinstance(op, dict) else op


def test_plugin_declaration_matches_setup_py():
    setup = (REPO / 'setup.py').read_text()
    name = re.search(r"name='([^']+)'", setup).group(1)
    version = re.search(r"version='([^']+)'", setup).group(1)
    plugin = PLUGIN['plugins']['docker']
    assert plugin['executor'] == 'central_deployment_agent'
    assert (plugin['package_name'], plugin['package_version']) == (name, version)


@pytest.mark.parametrize('mapping', sorted(set(_mappings())))
def test_every_operation_imports(mapping):
    plugin, module, func = mapping.split('.', 1)[0], *mapping.split('.', 1)[1].rsplit('.', 1)
    assert plugin == 'docker'
    assert callable(getattr(importlib.import_module(module), func))


def test_daemon_client_type_matches_the_client_factory():
    declared = set(PLUGIN['data_types']['cloudify.datatypes.docker.DaemonClient']['properties'])
    assert declared == set(client._KEYS)


@pytest.mark.parametrize('blueprint', sorted(p.name for p in (REPO / 'blueprints').glob('*.yaml')))
def test_every_blueprint_parses_offline(blueprint):
    resolver = DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])
    plan = dsl_parser.parse_from_path(str(REPO / 'blueprints' / blueprint), resolver=resolver)
    assert plan['nodes']
