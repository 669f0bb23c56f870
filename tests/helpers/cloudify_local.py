"""Cloudify local workflows (``init_env``) and the ``cfy`` CLI, for tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from cloudify.workflows import local
from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

REPO = Path(__file__).resolve().parents[2]
TYPES_URL = 'http://cloudify.co/spec/cloudify/7.0.0/types.yaml'
LOCAL_TYPES = REPO / 'blueprints' / 'types' / 'cloudify-local-types.yaml'


def resolver() -> DefaultImportResolver:
    """Maps the official types URL to the offline copy shipped in blueprints/types."""
    return DefaultImportResolver(rules=[{TYPES_URL: LOCAL_TYPES.as_uri()}])


class LocalRun:
    """One deployment of a blueprint in an in-memory local environment."""

    def __init__(self, blueprint: Path, name: str, inputs: dict[str, Any]):
        self.blueprint = blueprint
        self.name = name
        self.env = local.init_env(str(blueprint), name=name, inputs=inputs,
                                  resolver=resolver())
        self.installed = False

    def execute(self, workflow: str, retries: int = 0, **kwargs: Any) -> Any:
        return self.env.execute(workflow, task_retries=retries, task_retry_interval=0,
                                **kwargs)

    def install(self, retries: int = 0) -> dict[str, Any]:
        self.installed = True
        self.execute('install', retries=retries)
        return self.outputs()

    def uninstall(self, retries: int = 0) -> None:
        self.execute('uninstall', retries=retries)
        self.installed = False

    def operation(self, operation: str, node_ids: list[str] | None = None,
                  **kwargs: Any) -> Any:
        params = {'operation': operation, 'node_ids': node_ids or [],
                  'operation_kwargs': kwargs, 'allow_kwargs_override': True}
        return self.execute('execute_operation', parameters=params)

    def outputs(self) -> dict[str, Any]:
        return self.env.outputs()

    def instances(self, node_id: str | None = None) -> list[Any]:
        return [ni for ni in self.env.storage.get_node_instances()
                if node_id is None or ni.node_id == node_id]

    def props(self, node_id: str) -> dict[str, Any]:
        (instance,) = self.instances(node_id)
        return dict(instance.runtime_properties)

    def teardown(self) -> None:
        if self.installed:
            try:
                self.uninstall(retries=2)
            except Exception as exc:  # clean-up by label follows
                print(f'uninstall of {self.name} failed during teardown: {exc}',
                      file=sys.stderr)


class Cfy:
    """The ``cfy`` CLI of this venv, with its state in a private directory."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.env = dict(os.environ, CFY_WORKDIR=str(workdir))
        self.bin = str(Path(sys.executable).with_name('cfy'))

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.bin, *args], env=self.env, cwd=self.workdir,
                                capture_output=True, text=True, timeout=600, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f'cfy {" ".join(args)} failed ({result.returncode}):\n'
                                 f'{result.stdout}\n{result.stderr}')
        return result

    def init(self) -> None:
        self('init')
        config = self.workdir / '.cloudify' / 'config.yaml'
        data = yaml.safe_load(config.read_text()) or {}
        data['import_resolver'] = {'parameters': {'rules': [{TYPES_URL: LOCAL_TYPES.as_uri()}]}}
        config.write_text(yaml.safe_dump(data))

    def outputs(self, blueprint_id: str) -> dict[str, Any]:
        # The local command prints through the CLI's logger, which is silent at
        # times without -v (seen with cloudify 7.0.5); -v makes it reliable.
        result = self('deployments', 'outputs', '-b', blueprint_id, '-v')
        text = result.stdout + result.stderr
        data, _ = json.JSONDecoder().raw_decode(text[text.index('{'):])
        return data

    def node_instances(self, blueprint_id: str) -> list[dict[str, Any]]:
        result = self('node-instances', '-b', blueprint_id, '--json', '-v')
        text = result.stdout + result.stderr
        data, _ = json.JSONDecoder().raw_decode(text[text.index('['):])
        return data
