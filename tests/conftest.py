"""Fixtures shared by the integration and blueprint tiers.

They need a real Docker engine and the local base image that
``scripts/bootstrap.sh`` builds. With ``DOCKER_PLUGIN_REQUIRE_ENGINE=1`` (CI
sets it) a missing engine fails the run instead of skipping.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import docker
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import cleanup, markers  # noqa: E402
from helpers.cloudify_local import Cfy, LocalRun  # noqa: E402
from helpers.fuzz_mode import fuzz_mode, session_seed  # noqa: E402
from helpers.http import serve_directory  # noqa: E402
from helpers.registry import run_registry  # noqa: E402
from helpers.remote_engine import remote_engine  # noqa: E402
from helpers.ssh_engine import ssh_engine  # noqa: E402
from helpers.swarm import SwarmLab  # noqa: E402

BASE_IMAGE = 'docker-plugin/busybox:latest'
ROOTFS_TAR = REPO / '.cache' / 'busybox-rootfs.tar'


def _unavailable(reason: str) -> None:
    if os.environ.get('DOCKER_PLUGIN_REQUIRE_ENGINE'):
        pytest.fail(f'{reason} (CI requires the engine: run scripts/bootstrap.sh)')
    pytest.skip(f'{reason}; run scripts/bootstrap.sh')


@pytest.fixture(scope='session')
def docker_client():
    """A client of the local engine, with the base image present."""
    try:
        client = docker.from_env(version='auto', timeout=120)
        client.ping()
    except Exception as exc:
        _unavailable(f'no Docker engine answers: {exc}')
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f'base image {BASE_IMAGE} is missing')
    yield client
    client.close()


@pytest.fixture
def api(docker_client):
    return docker_client.api


@pytest.fixture
def unique():
    """A short name unique to this test, used for deployments and Docker objects."""
    return f'dpt-{uuid.uuid4().hex[:8]}'


@pytest.fixture
def labelled(docker_client, unique):
    """Label set for objects a test makes by hand; removed after the test."""
    labels = {'cloudify.deployment': unique, 'docker-plugin-test': '1'}
    yield labels
    cleanup.remove_labelled(docker_client, {'cloudify.deployment': unique})


@pytest.fixture
def rootfs_tar():
    if not ROOTFS_TAR.is_file():
        _unavailable(f'{ROOTFS_TAR} is missing')
    return ROOTFS_TAR


@pytest.fixture
def http_root(tmp_path, rootfs_tar):
    """A directory served over HTTP on 127.0.0.1: (directory, base URL)."""
    root = tmp_path / 'www'
    root.mkdir()
    os.link(rootfs_tar, root / 'rootfs.tar') if _same_fs(rootfs_tar, root) else \
        (root / 'rootfs.tar').write_bytes(rootfs_tar.read_bytes())
    with serve_directory(root) as base_url:
        yield root, base_url


def _same_fs(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


@pytest.fixture
def local_run(docker_client, unique):
    """Factory for Cloudify local-workflow runs; uninstalls and cleans up after."""
    runs: list[LocalRun] = []

    def make(blueprint: str, inputs: dict | None = None, name: str | None = None) -> LocalRun:
        run = LocalRun(REPO / 'blueprints' / blueprint, name or f'{unique}-{len(runs)}',
                       inputs or {})
        runs.append(run)
        return run

    yield make
    # Later deployments use what earlier ones made (an adopted network): newest first, and
    # what one clean-up cannot remove yet is tried again once every run is uninstalled.
    for run in reversed(runs):
        run.teardown()
    for _ in range(2):
        for run in reversed(runs):
            try:
                cleanup.remove_labelled(docker_client, {'cloudify.deployment': run.name})
            except docker.errors.APIError as exc:
                print(f'clean-up of {run.name}: {exc}', file=sys.stderr)


@pytest.fixture(scope='session')
def registry(docker_client, tmp_path_factory):
    """A registry with htpasswd auth over plain HTTP on 127.0.0.1."""
    with run_registry(tmp_path_factory.mktemp('registry')) as reg:
        yield reg


@pytest.fixture(scope='session')
def tls_registry(docker_client, tmp_path_factory):
    """A registry with htpasswd auth over TLS (an openssl-made CA the engine trusts)."""
    with run_registry(tmp_path_factory.mktemp('tls-registry'), tls=True) as reg:
        yield reg


@pytest.fixture(scope='session')
def remote_tls_engine(docker_client, tmp_path_factory):
    """A second engine on its own test host (network namespace), reachable only
    over mutual TLS on tcp://10.250.N.2:2376, with the base image loaded."""
    with remote_engine(tmp_path_factory.mktemp('remote-engine'), BASE_IMAGE) as engine:
        yield engine


@pytest.fixture(scope='session')
def ssh_host(docker_client, tmp_path_factory):
    """An engine reached only over SSH: Debian's sshd on its own test host (network
    namespace) in front of a dockerd listening on a unix socket there, with the base
    image loaded; a user and a key made for the session (tests/helpers/ssh_engine.py)."""
    if not os.path.exists('/usr/sbin/sshd'):
        _unavailable('sshd is not installed')
    with ssh_engine(tmp_path_factory.mktemp('ssh-engine'), BASE_IMAGE) as engine:
        yield engine


# ------------------------------------------------------------------ the fuzz tier's mode
@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config):
    """An exploring session draws from one seed, given or chosen here."""
    try:
        mode = fuzz_mode()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if mode.exploring and config.getoption('hypothesis_seed', None) is None:
        config.option.hypothesis_seed = str(session_seed())


def pytest_report_header(config):
    mode = fuzz_mode()
    said = (f'exploring from seed {config.getoption("hypothesis_seed")} (again: '
            f'--hypothesis-seed={config.getoption("hypothesis_seed")})' if mode.exploring
            else 'seeded (the same examples every run)')
    return (f'fuzz tier: {said}; {mode.examples} examples per input, '
            f'{mode.swarm_examples} on the swarm')


# ------------------------------------------------------------------ markers by rule
COMPOSE_GUARD = markers.ComposeGuard()


@pytest.hookimpl(tryfirst=True)  # before -m/-k deselect: a stale entry is seen either way
def pytest_collection_modifyitems(config, items):
    """``unit``, ``swarm`` and ``slow`` by rule (tests/helpers/markers.py); an entry of
    tests/slow.txt that names no test of a file this run collected whole is an error."""
    unused = markers.apply(items, markers.slow_tests())
    whole = not any('::' in arg for arg in config.args)
    collected = {item.nodeid.split('::', 1)[0] for item in items}
    stale = sorted(e for e in unused if whole and e.split('::', 1)[0] in collected)
    if stale:
        raise pytest.UsageError('tests/slow.txt names tests that do not exist: '
                                + ', '.join(stale))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    COMPOSE_GUARD.start(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != 'teardown':
        return
    COMPOSE_GUARD.stop()
    complaint = COMPOSE_GUARD.unmarked(item)
    if complaint and report.passed:
        report.outcome = 'failed'
        report.longrepr = complaint


FUZZ_REPORT = REPO / '.cache' / 'fuzz-report.json'


def pytest_sessionstart(session):
    """Each fuzz module adds its counts to the report: start from nothing."""
    FUZZ_REPORT.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    """The fuzz tier's outcomes by input, when it ran in this session."""
    import json
    report = FUZZ_REPORT
    if not report.exists():
        return
    counts = json.loads(report.read_text())
    terminalreporter.section('fuzz outcomes (examples per input and outcome)')
    totals: dict[str, int] = {}
    for name, outcomes in sorted(counts.items()):
        terminalreporter.write_line(f'{name:<28} ' + ', '.join(
            f'{outcome}: {n}' for outcome, n in sorted(outcomes.items())))
        for outcome, n in outcomes.items():
            totals[outcome] = totals.get(outcome, 0) + n
    terminalreporter.write_line('total: ' + ', '.join(f'{k}: {v}' for k, v in sorted(
        totals.items())))


@pytest.fixture(scope='session')
def swarm_lab(docker_client, tmp_path_factory):
    """Three engines, each in a network namespace of its own on a hub bridge, and a
    registry they all reach (tests/helpers/swarm.py), with the test images pushed.
    Not formed into a swarm: ``swarm`` forms it, Swarm-node tests form it themselves."""
    lab = SwarmLab(tmp_path_factory.mktemp('swarm-lab'), size=3)
    try:
        lab.up()
        lab.push_test_images()
        yield lab
    finally:
        lab.clean()


@pytest.fixture
def swarm(swarm_lab, unique):
    """The lab formed into a swarm (1 manager, 2 workers; by the CLI), every node
    ready; what a test labels with its deployment is removed after it."""
    swarm_lab.ensure_formed()
    yield swarm_lab
    swarm_lab.remove_labelled({'cloudify.deployment': unique})


@pytest.fixture
def cfy(tmp_path):
    """The ``cfy`` CLI in a profile of the test's own (``helpers.cloudify_local.Cfy``)."""
    cli = Cfy(tmp_path)
    cli.init()
    return cli
