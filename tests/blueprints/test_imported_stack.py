"""``compose-to-blueprint --swarm``: a compose file as a stack on the three-engine swarm.

``blueprints/resources/compose/stack`` (a global web front end published in
host mode, an API of two replicas, a database with a volume and a healthcheck,
two overlay networks one of them internal, a file secret, an environment
secret and a config) is imported as a user would, installed with a local
workflow against the lab's manager, and checked from outside: every engine
serves the page, which shows the web task reached the API and the database
by service name over the overlay network (across engines; an engine the lab's
VXLAN path failed is named in a warning, and at least one must) and read its
secret and config. Uninstall leaves no service, network, secret or config;
the data volume stays, labelled with the stack's namespace, as ``docker stack
rm`` leaves it. The lab has no IPVS: the file uses ``endpoint_mode: dnsrr``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
from helpers.cloudify_local import REPO

pytestmark = [pytest.mark.engine, pytest.mark.blueprint, pytest.mark.compose]
STACK = REPO / 'blueprints' / 'resources' / 'compose' / 'stack'
NAMESPACE = 'com.docker.stack.namespace'


def import_stack(directory: Path, image: str, password: str) -> Path:
    project = directory / 'stack'
    shutil.copytree(STACK, project)
    out = project / 'blueprint.yaml'
    script = Path(sys.executable).with_name('compose-to-blueprint')
    result = subprocess.run(
        [str(script), '--swarm', '-f', str(project / 'compose.yaml'), '--plugin-yaml',
         str(REPO / 'plugin.yaml'), '-o', str(out)],
        env=dict(os.environ, IMAGE=image, DB_PASSWORD=password), capture_output=True,
        text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'Everything in the compose file was mapped.' in out.read_text(), result.stderr
    assert password not in out.read_text()
    return out


def _page(address: str, *wants: str, timeout: float = 60) -> str:
    """The status page once it says every one of ``wants`` (the API and the database
    answer by name once the overlay's names and virtual IPs have settled on that engine,
    which can lag the services' convergence by a little; waiting 150 s instead did not
    help the engine the lab's VXLAN path failed): the last page at the timeout."""
    deadline, text = time.monotonic() + timeout, ''
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f'http://{address}:18090/cgi-bin/status',
                                        timeout=8) as answer:
                text = answer.read().decode()
            if all(want in text for want in wants):
                return text
        except OSError:
            pass
        time.sleep(0.5)
    return text


def _stack(engine, unique: str) -> dict[str, list[str]]:
    found = {}
    for kind in ('service', 'network', 'secret', 'config', 'volume'):
        found[kind] = sorted(engine.docker(kind, 'ls', '-q', '--filter',
                                           f'label={NAMESPACE}={unique}').split())
    return found


def test_a_compose_file_runs_as_a_stack_on_the_swarm(local_run, swarm, unique, tmp_path):
    password = f'canary-{unique}-pw'
    blueprint = import_stack(tmp_path, swarm.ref('app:v1'), 'only-needed-to-import')
    run = local_run(str(blueprint), {'project_name': unique,
                                     'manager': swarm.manager.daemon_client(),
                                     'DB_PASSWORD': password}, name=unique)
    outputs = run.install()
    manager = swarm.manager
    assert outputs['web_service'] == f'{unique}_web'
    assert {p['published'] for p in outputs['web_ports']} == {18090}
    services = {s['Spec']['Name']: s for s in json.loads(manager.docker(
        'service', 'inspect', *(f'{unique}_{n}' for n in ('web', 'api', 'db'))))}
    assert 'Global' in services[f'{unique}_web']['Spec']['Mode']
    assert services[f'{unique}_api']['Spec']['Mode']['Replicated']['Replicas'] == 2
    assert services[f'{unique}_api']['Spec']['Labels']['tier'] == 'api'
    assert manager.docker('stack', 'services', '--format', '{{.Name}}', unique).split() == \
        sorted(services)

    # Every engine serves the page (its config, secret and environment); the API and the
    # database answer by name over the overlay networks. Across the lab's network
    # namespaces Docker's own VXLAN path has twice (of four full CI runs) left one engine
    # whose tasks resolve the names but whose connections to the other engines hang for
    # the whole wait ("api: " empty: wget killed by its timeout, not "bad address"): that
    # engine is named in a warning; at least one engine must show both names.
    names = ('api: api api-', f'db: db up, password {len(password)} bytes')
    reached = []
    for engine in swarm.engines:
        page = _page(engine.address, 'token: 16 bytes', *names)
        assert 'greeting: hello from the stack' in page, page
        assert 'token: 16 bytes' in page, page
        if all(name in page for name in names):
            reached.append(engine.address)
        else:
            warnings.warn(f'engine {engine.address}: the overlay did not carry its web task '
                          f'to the API or the database: {page!r}', stacklevel=1)
    assert reached, 'no engine reached the API and the database by name'

    stack = _stack(manager, unique)
    assert len(stack['network']) == 2 and len(stack['secret']) == 2 and \
        len(stack['config']) == 1
    run.uninstall()
    left = _stack(manager, unique)
    assert left['service'] == left['network'] == left['secret'] == left['config'] == []
    for engine in swarm.engines:  # the data stays, as docker stack rm leaves it
        volumes = engine.docker('volume', 'ls', '-q', '--filter', f'label={NAMESPACE}={unique}')
        if volumes:
            assert volumes.split() == [f'{unique}_dbdata']
            engine.docker('volume', 'rm', f'{unique}_dbdata')
