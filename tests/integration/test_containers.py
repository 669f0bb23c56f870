"""Container resource code against the real engine."""

from __future__ import annotations

import time

import pytest

from docker_plugin.errors import StateError
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources.container import containers, logs, reports
from docker_plugin.resources.container import spec as specs

pytestmark = pytest.mark.engine
BASE = 'docker-plugin/busybox:latest'


def spec_of(raw: dict, name: str | None = None) -> specs.ContainerSpec:
    """A spec from a container_config dict, as the task layer would build it."""
    parts = CONTAINER.validate(raw, 'container_config')
    return specs.build(parts, {}, {}, [], [], name or raw.get('name') or '')


def make(api, raw: dict, labels: dict, name: str | None = None) -> str:
    spec = spec_of(raw, name)
    spec.name = name  # None: let the engine pick one
    return containers.create(api, BASE, spec, labels)[0]


def test_start_options_are_applied_by_recreating_a_never_started_container(
        api, labelled, unique, tmp_path):
    first = make(api, {'command': ['sleep', '300'], 'environment': {'A': 1},
                       'working_dir': '/tmp', 'ports': [80]}, labelled, f'{unique}-c')
    info = api.inspect_container(first)
    assert containers.never_started(info)
    start = CONTAINER.validate({'binds': [f'{tmp_path}:/data:ro'], 'port_bindings': {80: None},
                                'privileged': False, 'restart_policy': 'on-failure:2'},
                               'container_start')['host']
    recorded = []
    second = containers.recreate(api, info, start, recorded.append)

    assert recorded == [second] and second != first
    assert containers.inspect(api, first) is None  # the old one is removed
    new = api.inspect_container(second)
    assert new['Name'] == f'/{unique}-c'
    assert new['Config']['Cmd'] == ['sleep', '300']
    assert 'A=1' in new['Config']['Env'] and new['Config']['WorkingDir'] == '/tmp'
    assert new['Config']['Labels']['cloudify.deployment'] == unique
    assert new['HostConfig']['Binds'] == [f'{tmp_path}:/data:ro']
    assert new['HostConfig']['RestartPolicy'] == {'Name': 'on-failure', 'MaximumRetryCount': 2}
    containers.start(api, second)
    summary = reports.summarise(api.inspect_container(second))
    assert summary['state'] == 'running' and summary['ip']
    assert isinstance(summary['ports']['80/tcp'][0]['host_port'], int)
    table = containers.top(api, second)
    assert 'sleep 300' in reports.format_top(table)
    assert containers.stop(api, second, timeout=0) == containers.STOPPED_NOW
    assert containers.top(api, second) is None  # not running: no table, no error


def test_recreate_refuses_a_container_that_has_run(api, labelled):
    cid = make(api, {'command': 'true'}, labelled)
    containers.start(api, cid)
    api.wait(cid, timeout=30)
    with pytest.raises(StateError, match='already run'):
        containers.recreate(api, api.inspect_container(cid), {'privileged': True},
                            lambda _: None)


def test_stop_and_remove_are_idempotent(api, labelled):
    cid = make(api, {'command': ['sleep', '60']}, labelled)
    containers.start(api, cid)
    containers.start(api, cid)  # already running: fine
    assert containers.stop(api, cid, timeout=0) == containers.STOPPED_NOW
    assert containers.stop(api, cid, timeout=0) == containers.NOT_RUNNING  # stopped: fine
    assert containers.remove(api, cid) is True
    assert containers.remove(api, cid) is False
    assert containers.stop(api, cid) is None
    assert containers.inspect(api, cid) is None


def test_remove_stopping_removes_a_stopped_one_at_once_and_stops_a_running_one_first(
        api, labelled):
    stopped = make(api, {'command': 'true'}, labelled)
    assert containers.remove_stopping(api, stopped, timeout=5) is True
    assert containers.inspect(api, stopped) is None
    # Running, and force asked for: still stopped first, with its grace period (the
    # shell exits 0 on SIGTERM; killed, it would have died with 137).
    running = make(api, {'command': ['sh', '-c', 'trap "exit 0" TERM; while true; do '
                                     'sleep 0.1; done']}, labelled)
    since = int(time.time()) - 1
    containers.start(api, running)
    assert containers.remove_stopping(api, running, timeout=5, v=True, force=True) is True
    assert containers.inspect(api, running) is None
    died = list(api.events(since=since, until=int(time.time()) + 1, decode=True,
                           filters={'container': running, 'event': 'die'}))
    assert [e['Actor']['Attributes']['exitCode'] for e in died] == ['0']
    paused = make(api, {'command': ['sleep', '60']}, labelled)
    containers.start(api, paused)
    api.pause(paused)
    assert containers.remove_stopping(api, paused, timeout=0) is True
    assert containers.inspect(api, paused) is None
    assert containers.remove_stopping(api, paused) is False  # gone already


def test_find_by_labels_sees_only_this_instance(api, labelled, unique):
    mine = make(api, {'command': 'true'}, {**labelled, 'cloudify.node-instance': 'a'})
    make(api, {'command': 'true'}, {**labelled, 'cloudify.node-instance': 'b'})
    found = containers.find_by_labels(api, {'cloudify.deployment': unique,
                                            'cloudify.node-instance': 'a'})
    assert [c['Id'] for c in found] == [mine]


def test_the_last_lines_of_an_exited_container(api, labelled):
    cid = make(api, {'command': ['sh', '-c', 'seq 1 50']}, labelled)
    containers.start(api, cid)
    api.wait(cid, timeout=30)
    assert logs.last_lines(api, cid, lines=3).split() == ['48', '49', '50']
