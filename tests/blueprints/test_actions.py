"""The container actions and readiness waits, on installed deployments."""

from __future__ import annotations

import time

import pytest
from cloudify.exceptions import WorkflowFailed
from helpers.cleanup import labelled_objects

from docker_plugin.tasks import waits

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BLUEPRINT = 'files/one-container.yaml'
BASE = 'docker-plugin/busybox:latest'
LOOP = 'trap "exit 0" TERM; while true; do sleep 0.2; done'
NOTHING = {'containers': [], 'images': [], 'networks': [], 'volumes': []}


def _run(local_run, unique, config, wait_for=None, **kw):
    inputs = {'container_config': {'image': BASE, **config}, 'wait_for': wait_for or {}, **kw}
    return local_run(f'../tests/blueprints/{BLUEPRINT}', inputs, name=unique)


def _op(run, action, **kwargs):
    run.operation(f'docker.interfaces.container.{action}', **kwargs)
    return run.props('c')


@pytest.mark.smoke
def test_every_action_on_a_running_container(local_run, docker_client, unique, tmp_path,
                                             capsys):
    run = _run(local_run, unique, {
        'name': unique, 'command': ['sh', '-c', f'echo ready; echo oops >&2; {LOOP}'],
        'labels': {'app': unique}})
    run.install()
    container = docker_client.containers.get(unique)

    capsys.readouterr()
    props = _op(run, 'inspect')
    assert props['inspect']['exit_code'] == 0 and props['inspect']['data']['state'] == 'running'
    shown = capsys.readouterr().out  # the event stream: what a person reads
    assert f'inspect: container {unique} is running' in shown
    assert '  state: running' in shown and '  environment: PATH' in shown
    env_names = props['inspect']['data']['config']['Env']
    assert 'PATH' in env_names and all('=' not in name for name in env_names)  # no values

    props = _op(run, 'list_containers', filters={'label': [f'app={unique}']})
    assert [c['name'] for c in props['list_containers']['data']['containers']] == [unique]
    props = _op(run, 'list_images', name='docker-plugin/busybox')
    assert any(BASE in i['tags'] for i in props['list_images']['data']['images'])

    capsys.readouterr()
    props = _op(run, 'top')
    assert any('sleep' in ' '.join(row) for row in props['top']['data']['processes'])
    shown = capsys.readouterr().out
    assert f"top: {props['top']['message']}" in shown and 'PID' in shown and 'sleep' in shown
    props = _op(run, 'logs', tail=10, stderr=False)
    assert props['logs']['data']['logs'].strip() == 'ready'
    assert props['logs']['message'] == '1 log line'
    assert 'logs: 1 log line\n  ready\n' in capsys.readouterr().out
    props = _op(run, 'stats')
    assert props['stats']['data']['pids'] >= 1

    props = _op(run, 'exec', command=['sh', '-c', 'echo $X-$(pwd); echo err >&2; exit 3'],
                workdir='/tmp', environment={'X': 'hi'})
    assert props['exec']['data'] == {'exit_code': 3, 'stdout': 'hi-/tmp\n', 'stderr': 'err\n'}
    assert ('exited with code 3\n  stdout:\n    hi-/tmp\n  stderr:\n    err\n'
            in capsys.readouterr().out)
    with pytest.raises(WorkflowFailed):
        _op(run, 'exec', command='false', expected_exit_code=0)

    source = tmp_path / 'in'
    source.mkdir()
    (source / 'a.txt').write_text('payload')
    _op(run, 'copy_to', source=str(source), destination='/tmp')
    assert container.exec_run(['cat', '/tmp/in/a.txt']).output == b'payload'
    props = _op(run, 'copy_from', source='/tmp/in', destination=str(tmp_path / 'out'))
    assert (tmp_path / 'out' / 'in' / 'a.txt').read_text() == 'payload'
    assert 'in/a.txt' in props['copy_from']['data']['files']

    props = _op(run, 'update', resources={'cpu_shares': 512, 'restart_policy': 'on-failure:2',
                                          'mem_limit': '64m', 'memswap_limit': '128m'})
    container.reload()
    host = container.attrs['HostConfig']
    assert host['CpuShares'] == 512 and host['Memory'] == 64 * 1024 * 1024
    assert host['RestartPolicy'] == {'Name': 'on-failure', 'MaximumRetryCount': 2}
    with pytest.raises(WorkflowFailed):
        _op(run, 'update', resources={'privileged': True})  # not updatable in place

    props = _op(run, 'pause')
    assert props['state'] == 'paused'
    props = _op(run, 'unpause')
    assert props['state'] == 'running'
    props = _op(run, 'rename', name=f'{unique}-renamed')
    assert props['container_name'] == f'{unique}-renamed'
    old_ip = props['ip']
    props = _op(run, 'restart', stop_timeout=1)
    assert props['state'] == 'running' and props['ip']
    assert old_ip  # still described after restart
    props = _op(run, 'stop', stop_timeout=0)
    assert props['state'] == 'exited'
    with pytest.raises(WorkflowFailed):
        _op(run, 'pause')  # a stopped container cannot be paused
    props = _op(run, 'start')
    assert props['state'] == 'running'
    props = _op(run, 'kill', signal='SIGTERM')
    props = _op(run, 'wait', timeout=10)
    assert props['wait']['data']['exit_code'] == 0
    run.uninstall()
    assert labelled_objects(docker_client, {'cloudify.deployment': unique}) == NOTHING


@pytest.mark.parametrize(('config', 'wait_for', 'seen'), [
    ({'command': ['sh', '-c', f'sleep 1; echo "service is up"; {LOOP}']},
     {'condition': 'log', 'pattern': 'service .s up', 'timeout': 20}, "logged 'service is up'"),
    ({'command': ['sh', '-c', 'sleep 1; exec httpd -f -p 8080']},
     {'condition': 'port', 'port': 8080, 'timeout': 20}, 'accepted a connection'),
    ({'command': ['sh', '-c', f'sleep 1; touch /tmp/ok; {LOOP}'],
      'healthcheck': {'test': ['CMD', 'test', '-e', '/tmp/ok'], 'interval': 300_000_000,
                      'retries': 30}},
     {'condition': 'healthy', 'timeout': 30}, 'health healthy'),
    ({'command': ['sh', '-c', 'sleep 1; echo job done; exit 4']},
     {'condition': 'exited', 'exit_code': 4, 'timeout': 20}, 'exited with code 4'),
])
def test_install_waits_until_ready(local_run, unique, config, wait_for, seen):
    run = _run(local_run, unique, config, wait_for)
    run.install()
    props = run.props('c')
    assert props['start_wait']['data']['seen'].endswith(seen) or seen in \
        props['start_wait']['data']['seen']
    if wait_for['condition'] == 'exited':
        assert props['exit_code'] == 4 and 'job done' in props['start_wait']['data']['logs']
    run.uninstall()


def test_a_crash_while_waiting_fails_at_once_with_its_output(local_run, unique, capsys):
    run = _run(local_run, unique, {'command': ['sh', '-c', 'echo dying words; exit 7']},
               {'condition': 'log', 'pattern': 'never', 'timeout': 60})
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):
        run.install()
    assert time.monotonic() - started < 30  # not the 60 s timeout
    events = capsys.readouterr().out
    assert 'exit code 7' in events and 'dying words' in events


def test_a_timeout_fires_and_says_what_it_saw(local_run, unique, capsys):
    run = _run(local_run, unique, {'command': ['sh', '-c', f'echo still booting; {LOOP}']},
               {'condition': 'log', 'pattern': 'ready', 'timeout': 2, 'interval': 0.2})
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):
        run.install()
    elapsed = time.monotonic() - started
    events = capsys.readouterr().out
    assert 'was not ready after 2s' in events and "last line 'still booting'" in events
    assert 2 <= elapsed < 20


def test_asynchronous_waits_free_the_worker_between_polls(local_run, unique, capsys):
    # One worker thread, no workflow retries (cfy executions start's default):
    # the plugin.yaml retry budget lets the wait poll through retries, and the
    # two instances' waits interleave on the single worker.
    run = _run(local_run, unique, {'command': ['sh', '-c', f'sleep 2; echo up; {LOOP}']},
               {'condition': 'log', 'pattern': 'up', 'timeout': 30, 'interval': 0.3,
                'async': True}, instances=2)
    run.env.execute('install', task_retries=0, task_retry_interval=0, task_thread_pool_size=1)
    run.installed = True
    events = capsys.readouterr().out
    assert events.count('Task rescheduled') >= 2
    for instance in run.instances('c'):
        assert instance.runtime_properties['start_wait']['data']['seen'] == "logged 'up'"
        assert waits.key('start') not in instance.runtime_properties
    run.uninstall()
