"""Services on a real three-engine swarm (tests/helpers/swarm.py), through blueprints.

No fakes: each engine runs in a network namespace of its own and pulls from a
registry they share; services are created by digest. The kernel here has no
IPVS, so services use ``endpoint_mode: dnsrr`` (VIPs and the ingress routing
mesh cannot work on these machines; the plugin supports both, and their
options are covered by the unit tier). Every wait is bounded.
"""

from __future__ import annotations

import json
import time

import docker
import pytest
from cloudify.exceptions import WorkflowFailed

from docker_plugin.tasks import waits

pytestmark = [pytest.mark.engine, pytest.mark.blueprint]
BLUEPRINT = '../tests/blueprints/files/swarm-service.yaml'
COMMAND = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done']
UPDATE = 'cloudify.interfaces.lifecycle.update'
DRIFT = 'cloudify.interfaces.lifecycle.check_drift'
STATUS = 'cloudify.interfaces.validation.check_status'


@pytest.fixture
def manager(swarm):
    client = docker.DockerClient(base_url=swarm.manager.url, version='1.41', timeout=30)
    yield client.api
    client.close()


def config(swarm, **extra):
    return {'image': swarm.ref('app:v1'), 'command': COMMAND, 'endpoint_mode': 'dnsrr',
            'stop_grace_period': '1s',
            'update_config': {'parallelism': 3, 'monitor': '1s', 'failure_action': 'rollback'},
            'rollback_config': {'parallelism': 3, 'monitor': '1s'}, **extra}


def deploy(local_run, swarm, unique, converge=None, secret='not-a-real-secret', **extra):
    return local_run(BLUEPRINT, {'manager': swarm.manager.daemon_client(), 'name': unique,
                                 'service_config': config(swarm, **extra),
                                 'converge': converge or {}, 'secret_value': secret},
                     name=unique)


def running(api, service):
    """{host name: running tasks} of a service, as the manager sees it now."""
    names = {n['ID']: n['Description']['Hostname'] for n in api.nodes()}
    counts: dict[str, int] = {}
    for task in api.tasks(filters={'service': service, 'desired-state': 'running'}):
        if task['Status']['State'] == 'running':
            node = names[task['NodeID']]
            counts[node] = counts.get(node, 0) + 1
    return counts


def images(api, service):
    return {t['Spec']['ContainerSpec']['Image'].split('@')[1]
            for t in api.tasks(filters={'service': service, 'desired-state': 'running'})}


def op(run, operation, **kwargs):
    run.operation(operation, node_ids=['svc'], **kwargs)
    return run.props('svc')


def test_replicas_spread_over_the_engines_and_scale(local_run, swarm, manager, unique):
    run = deploy(local_run, swarm, unique, replicas=6, hostname='{{.Node.Hostname}}',
                 command=['sh', '-c', 'echo "task on $(hostname)"; ' + COMMAND[2]])
    outputs = run.install()
    assert outputs['image'].endswith('@' + swarm.digests['app:v1'])  # pinned at deploy
    spread = running(manager, unique)
    assert sorted(spread) == sorted(e.name for e in swarm.engines), spread
    assert sum(spread.values()) == 6 and all(n == 2 for n in spread.values())

    # ps names each task's node; logs gather every task's output, from every engine.
    rows = op(run, 'docker.interfaces.service.ps')['ps']['data']
    assert sorted(r['node'] for r in rows if r['state'] == 'running') == sorted(
        e.name for e in swarm.engines for _ in range(2))
    text = op(run, 'docker.interfaces.service.logs', tail=5)['logs']['data']['logs']
    assert all(f'task on {e.name}' in text for e in swarm.engines), text

    props = op(run, 'docker.interfaces.service.scale', replicas=9)
    assert props['replicas'] == 9 and props['converged']['data']['tasks'] == 9
    assert sorted(running(manager, unique).values()) == [3, 3, 3]
    op(run, 'docker.interfaces.service.scale', replicas=2)
    assert sum(running(manager, unique).values()) == 2
    # The scaled count wins over the blueprint's: no drift, and update keeps it.
    assert op(run, DRIFT)['drift'] == []
    assert op(run, STATUS)['status']['running'] == 2

    run.uninstall()
    assert manager.services(filters={'name': unique}) == []
    assert manager.secrets(filters={'label': f'cloudify.deployment={unique}'}) == []


def test_rolling_update_a_moved_tag_and_a_manual_rollback(local_run, swarm, manager, unique):
    swarm.push('dpt/app', 'moving')  # back to v1, whatever an earlier run left
    run = deploy(local_run, swarm, unique, replicas=3, image=swarm.ref('app:moving'))
    run.install()
    assert images(manager, unique) == {swarm.digests['app:v1']}

    # The tag moves in the registry: drift names the image, update rolls it out.
    moved = swarm.push('dpt/app', 'moving', swarm.local['app:v2'])
    assert moved == swarm.digests['app:v2']
    drift = op(run, DRIFT)['drift']
    assert [d['option'] for d in drift] == ['image'], drift
    props = op(run, UPDATE)
    assert props['image'].endswith('@' + moved) and props['drift'] == []
    assert images(manager, unique) == {moved}
    assert sum(running(manager, unique).values()) == 3

    # A manual rollback (the SDK has none): back to v1, and that is a success.
    props = op(run, 'docker.interfaces.service.rollback')
    assert props['image'].endswith('@' + swarm.digests['app:v1'])
    assert images(manager, unique) == {swarm.digests['app:v1']}
    assert props['converged']['data']['operation'] == 'rollback'


@pytest.mark.parametrize(('bad', 'says'), [
    ('bad-exit:1', 'bad image: giving up'),
    ('bad-health:1', 'unhealthy container'),
])
def test_a_bad_image_rolls_back_and_the_update_fails_clearly(local_run, swarm, manager, unique,
                                                             capsys, bad, says):
    run = deploy(local_run, swarm, unique, replicas=3)
    run.install()
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):
        # sleep ignores SIGTERM: an unhealthy task is killed (137) and says why.
        op(run, UPDATE, service_config=config(swarm, replicas=3, image=swarm.ref(bad),
                                               command=['sleep', '3600']))
    assert time.monotonic() - started < 90
    events = capsys.readouterr().out
    assert 'the update failed and the service was rolled back' in events
    assert says in events, events[-3000:]  # the failing tasks' errors or last log lines
    # The service is kept, back on the good image, every task running.
    assert images(manager, unique) == {swarm.digests['app:v1']}
    assert sum(running(manager, unique).values()) == 3


def test_a_lost_engine_is_named_and_its_tasks_move(local_run, swarm, manager, unique, capsys):
    run = deploy(local_run, swarm, unique, replicas=6)
    run.install()
    lost = swarm.engines[2]
    assert running(manager, unique).get(lost.name) == 2
    lost.kill()
    try:
        # check_status fails naming the node once the manager sees it down (about 5 s
        # with a 2 s heartbeat), while its tasks are missing (until about 11 s) ...
        deadline = time.monotonic() + 30
        while True:
            try:
                op(run, STATUS)
            except WorkflowFailed:
                break
            assert time.monotonic() < deadline, 'check_status never failed'
            time.sleep(0.5)
        status = run.props('svc').get('status')
        assert status is None or lost.name in status['down_nodes']
        assert f'nodes down: {lost.name}' in capsys.readouterr().out
        # ... and passes, warning about it, once they run on the others.
        deadline = time.monotonic() + 90
        while sum(running(manager, unique).get(e.name, 0) for e in swarm.engines[:2]) < 6:
            assert time.monotonic() < deadline, running(manager, unique)
            time.sleep(0.5)
        props = op(run, STATUS)
        assert props['status']['running'] == 6 and props['status']['down_nodes'] == [lost.name]
        assert lost.name not in props['status']['by_node']
    finally:
        lost.start()
        swarm.wait_nodes_ready(len(swarm.engines))


def test_global_and_job_modes_converge(local_run, swarm, manager, unique):
    run = deploy(local_run, swarm, unique, mode='global')
    run.install()
    assert running(manager, unique) == {e.name: 1 for e in swarm.engines}
    run.uninstall()

    jobs = {'update_config': None, 'rollback_config': None}  # a job has no updates
    job = deploy(local_run, swarm, f'{unique}j', mode='replicated-job', replicas=4,
                 max_concurrent=2, command=['sh', '-c', 'sleep 0.3'], **jobs)
    job.install()
    tasks = manager.tasks(filters={'service': f'{unique}j'})
    assert sum(t['Status']['State'] == 'complete' for t in tasks) == 4
    job.uninstall()

    every = deploy(local_run, swarm, f'{unique}g', mode='global-job', command=['true'], **jobs)
    every.install()
    tasks = manager.tasks(filters={'service': f'{unique}g'})
    assert sorted(t['Status']['State'] for t in tasks) == ['complete'] * 3


def test_waits_async_and_enforces_its_timeout(local_run, swarm, manager, unique, capsys):
    run = deploy(local_run, swarm, unique, replicas=2, converge={'async': True, 'timeout': 60})
    run.install(retries=60)
    assert sum(running(manager, unique).values()) == 2
    assert waits.key('start') not in run.props('svc')  # the wait ended with it

    stuck = deploy(local_run, swarm, f'{unique}s', replicas=2,
                   placement={'constraints': ['node.labels.nowhere==true']},
                   converge={'timeout': 3})
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):
        stuck.install()
    assert time.monotonic() - started < 30
    events = capsys.readouterr().out
    assert f'service {unique}s did not converge in time: 0 of 2 tasks running' in events
    assert 'no suitable node' in events
    assert manager.services(filters={'name': f'{unique}s'})  # kept, for a look


def test_a_service_whose_tasks_keep_failing_fails_before_its_timeout(local_run, swarm, unique,
                                                                    capsys):
    run = deploy(local_run, swarm, unique, replicas=2, image=swarm.ref('bad-exit:1'),
                 converge={'timeout': 300})
    started = time.monotonic()
    with pytest.raises(WorkflowFailed):
        run.install()
    assert time.monotonic() - started < 60
    events = capsys.readouterr().out
    assert 'tasks failed and none runs' in events and 'exit code 3' in events
    assert 'bad image: giving up' in events


def test_secret_values_stay_secret(local_run, swarm, manager, unique, capsys):
    secret = f'canary-{unique}-s3cr3t-value'
    run = deploy(local_run, swarm, unique, replicas=1, secret=secret,
                 secret_env={'API_KEY': secret})
    run.install()
    run.operation(DRIFT, node_ids=['svc', 'token'])
    run.operation('docker.interfaces.service.logs', node_ids=['svc'])
    props = json.dumps([dict(i.runtime_properties) for i in run.instances()])
    run.uninstall()
    events = capsys.readouterr()
    for text in (props, events.out, events.err):
        assert secret not in text


def test_options_apply_compare_clean_and_change_in_place(local_run, swarm, manager, unique):
    """Apply, compare (no drift), change one option (exactly that drifts, then applies)."""
    options = dict(
        replicas=2, env={'MODE': 'one', 'EMPTY': ''}, secret_env={'TOKEN': 'tok-' + unique},
        workdir='/tmp', user='0', hostname='{{.Service.Name}}-{{.Task.Slot}}',
        hosts={'db.local': '10.9.9.9'}, init=True, read_only=False, stop_signal='SIGTERM',
        mounts=[{'type': 'tmpfs', 'target': '/scratch', 'tmpfs_size': 1048576}],
        container_labels={'tier': 'web'}, labels={'team': 'swarm'},
        resources={'limits': {'cpus': 0.5, 'memory': '64m'},
                   'reservations': {'memory': '8m'}},
        placement={'constraints': ['node.role!=nonsense'],
                   'preferences': ['node.labels.zone'], 'max_replicas': 2},
        restart_policy={'condition': 'on-failure', 'delay': '1s', 'max_attempts': 3},
        healthcheck={'test': ['CMD', 'true'], 'interval': '1s', 'retries': 2},
        ports=[{'target': 80, 'published': 18000 + swarm.tag, 'mode': 'host'}],
        log_driver={'type': 'json-file', 'config': {'max-size': '1m'}},
        sysctls={'net.ipv4.ip_forward': '1'}, cap_drop=['NET_RAW'],
        ulimits=[{'name': 'nofile', 'soft': 1024, 'hard': 2048}])
    run = deploy(local_run, swarm, unique, **options)
    run.install()
    assert op(run, DRIFT)['drift'] == []
    spec = manager.inspect_service(unique)['Spec']
    container = spec['TaskTemplate']['ContainerSpec']
    assert container['Hosts'] == ['10.9.9.9 db.local']
    assert spec['TaskTemplate']['Resources']['Limits']['NanoCPUs'] == 500000000
    assert spec['EndpointSpec']['Ports'][0]['PublishMode'] == 'host'
    assert 'tok-' + unique not in json.dumps(run.props('svc'))

    changed = config(swarm, **{**options, 'env': {'MODE': 'two', 'EMPTY': ''}})
    drift = op(run, DRIFT, service_config=changed)['drift']
    assert [(d['option'], d['actual']) for d in drift] == [('env', ['EMPTY', 'MODE'])]
    assert op(run, UPDATE, service_config=changed)['drift'] == []
    env = manager.inspect_service(unique)['Spec']['TaskTemplate']['ContainerSpec']['Env']
    assert 'MODE=two' in env and f'TOKEN=tok-{unique}' in env
