"""A real multi-engine Docker Swarm on one machine, for tests, the demo and the benchmark.

Layout (see ``/work/shared/reference/swarm-on-one-machine.md``), for a lab
``tag`` (20-219):

* a *hub*: network namespace ``dpt-swarm-<tag>-hub`` holding a bridge; a
  bridge in the main namespace would push engine-to-engine frames through
  the host's iptables (FORWARD policy DROP);
* one namespace per engine, ``dpt-swarm-<tag>-<i>``, joined to the hub by a
  veth pair, at ``10.252.<tag>.<10+i>``, with its own UTS namespace (so each
  swarm node has its own host name), its own ``dockerd`` listening on plain
  TCP 2375 (``--tls=false``: otherwise dockerd 20.10 waits 15 s) and on a unix
  socket, its own data root, exec root (``/run/dpt-swarm-<tag>-<i>``) and
  cgroup parent;
* one veth from the main namespace to the hub, at ``10.252.<tag>.1``, where a
  registry (Debian's ``docker-registry``) listens on port 5000 for the
  engines (``--insecure-registry``); a second registry process on
  ``127.0.0.1:<free port>`` serves the same storage to the main engine, which
  pushes the test images there (loopback registries need no configuration).

Traffic stays among the namespaces and loopback. Every wait is bounded;
``clean`` kills every process by PID (dockerd, its containerd and shims),
unmounts what they left, removes namespaces, links, cgroups and data, and is
also run first, so a crashed run never blocks the next; a lab whose owner
process died without cleaning it is reaped by the next lab made.

Command line (for scripts/swarm-demo.sh and the benchmark)::

    python tests/helpers/swarm.py up   --dir DIR [--size 3] [--tag N] [--form]
    python tests/helpers/swarm.py down --dir DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from helpers.swarm_host import (
    HEARTBEAT,
    SwarmEngine,
    alive,
    free_port,
    kill_pids,
    owner_file,
    processes_under,
    quiet,
    remove_cgroups,
    run,
    unmount_under,
)

BASE_IMAGE = 'docker-plugin/busybox:latest'
LAB_LABEL = 'docker-plugin-swarm-lab'


def reap_stale() -> list[int]:
    """Clean labs whose owner died without cleaning them (a killed test run): their
    engines, registries, mounts and namespaces would otherwise live on."""
    reaped = []
    for path in Path('/run').glob('dpt-swarm-*.owner.json'):
        try:
            owner = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if alive(int(owner.get('pid', 0))):
            continue
        SwarmLab(Path(owner['workdir']), int(owner.get('size', 3)), int(owner['tag'])).clean()
        reaped.append(int(owner['tag']))
    return reaped


def _free_tag() -> int:
    """A lab tag (20-219) no other lab on this machine uses now (from this PID on)."""
    start = os.getpid() % 200
    for offset in range(200):
        tag = (start + offset) % 200 + 20
        if not os.path.exists(f'/var/run/netns/dpt-swarm-{tag}-hub') and \
                not os.path.exists(f'/run/dpt-swarm-{tag}-0'):
            return tag
    raise RuntimeError('no free swarm lab tag: remove stale dpt-swarm-* namespaces')


class SwarmLab:
    """``size`` engines on a hub, and a registry they all reach."""

    def __init__(self, workdir: Path, size: int = 3, tag: int | None = None,
                 owner: int | None = None):
        self.workdir = Path(workdir)
        if tag is None:
            reap_stale()
        self.tag = tag if tag is not None else _free_tag()
        self.owner = owner or os.getpid()  # the process whose death makes the lab stale
        self.prefix = f'dpt-swarm-{self.tag}'
        self.gateway = f'10.252.{self.tag}.1'
        self.registry = f'{self.gateway}:5000'
        self.push_port = 0
        self.engines = [SwarmEngine(self.tag, i, self.workdir / f'engine-{i}', self.registry)
                        for i in range(size)]
        self._registries: list[subprocess.Popen] = []
        self.digests: dict[str, str] = {}  # test image name -> digest in the registry
        self.local: dict[str, str] = {}    # test image name -> its name on the main engine

    # ------------------------------------------------------------------ network
    @property
    def hub(self) -> str:
        return f'{self.prefix}-hub'

    def _hub(self, *command: str) -> None:
        run('ip', 'netns', 'exec', self.hub, *command)

    def make_network(self) -> None:
        run('ip', 'netns', 'add', self.hub)
        self._hub('ip', 'link', 'add', 'hub', 'type', 'bridge')
        self._hub('ip', 'link', 'set', 'hub', 'up')
        self._hub('ip', 'link', 'set', 'lo', 'up')
        main, peer = f'dps{self.tag}m', f'dps{self.tag}mb'
        run('ip', 'link', 'add', main, 'type', 'veth', 'peer', 'name', peer)
        run('ip', 'link', 'set', peer, 'netns', self.hub)
        self._hub('ip', 'link', 'set', peer, 'master', 'hub', 'up')
        run('ip', 'addr', 'add', f'{self.gateway}/24', 'dev', main)
        run('ip', 'link', 'set', main, 'up')
        for engine in self.engines:
            inner, outer = f'dps{self.tag}e{engine.index}', f'dps{self.tag}e{engine.index}b'
            run('ip', 'netns', 'add', engine.name)
            run('ip', 'link', 'add', inner, 'type', 'veth', 'peer', 'name', outer)
            run('ip', 'link', 'set', outer, 'netns', self.hub)
            self._hub('ip', 'link', 'set', outer, 'master', 'hub', 'up')
            run('ip', 'link', 'set', inner, 'netns', engine.name)
            for command in (['ip', 'link', 'set', inner, 'name', 'eth0'],
                            ['ip', 'addr', 'add', f'{engine.address}/24', 'dev', 'eth0'],
                            ['ip', 'link', 'set', 'eth0', 'up'],
                            ['ip', 'link', 'set', 'lo', 'up'],
                            ['ip', 'route', 'add', 'default', 'via', self.gateway]):
                run('ip', 'netns', 'exec', engine.name, *command)

    # ----------------------------------------------------------------- registry
    def start_registry(self) -> None:
        storage = self.workdir / 'registry-data'
        storage.mkdir(parents=True, exist_ok=True)
        self.push_port = free_port()
        for name, address in (('engines', self.registry),
                              ('push', f'127.0.0.1:{self.push_port}')):
            config = self.workdir / f'registry-{name}.yml'
            config.write_text('version: 0.1\nlog:\n  level: warn\n'
                              f'storage:\n  filesystem:\n    rootdirectory: {storage}\n'
                              '  delete:\n    enabled: true\n'
                              f'http:\n  addr: {address}\n')
            log = open(self.workdir / f'registry-{name}.log', 'w')
            self._registries.append(subprocess.Popen(
                ['docker-registry', 'serve', str(config)], stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True))
            log.close()
        deadline = time.monotonic() + 20
        for address in (self.registry, f'127.0.0.1:{self.push_port}'):
            while True:
                try:
                    with socket.create_connection(tuple(address.split(':')), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f'registry on {address} did not answer') from None
                    time.sleep(0.1)

    def push(self, repository: str, tag: str, source: str = BASE_IMAGE) -> str:
        """Push ``source`` as ``<registry>/<repository>:<tag>``; return the digest."""
        local = f'127.0.0.1:{self.push_port}/{repository}:{tag}'
        run('docker', 'tag', source, local)
        try:
            run('docker', 'push', '-q', local, timeout=120)
            digest = run('docker', 'image', 'inspect', '--format',
                          '{{range .RepoDigests}}{{println .}}{{end}}', local).stdout
        finally:
            quiet('docker', 'rmi', local)
        for line in digest.split():
            if line.startswith(f'127.0.0.1:{self.push_port}/{repository}@'):
                return line.split('@', 1)[1]
        raise RuntimeError(f'no digest for {local}')

    def build(self, tag: str, dockerfile: str) -> str:
        """Build a test image on the main engine (labelled, so it is removed by label)."""
        context = Path(tempfile.mkdtemp(dir=self.workdir))
        (context / 'Dockerfile').write_text(
            f'FROM {BASE_IMAGE}\n{dockerfile}\nLABEL {LAB_LABEL}={self.tag}\n')
        image = f'{self.prefix}/{tag}'
        # The classic builder works with every CLI/engine pairing here; nothing is pulled.
        subprocess.run(['docker', 'build', '-q', '-t', image, str(context)], check=True,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'DOCKER_BUILDKIT': '0'})
        shutil.rmtree(context, ignore_errors=True)
        return image

    def image(self, repository: str, tag: str = 'latest', digest: str | None = None) -> str:
        """The reference the engines use."""
        if digest:
            return f'{self.registry}/{repository}@{digest}'
        return f'{self.registry}/{repository}:{tag}'

    def push_test_images(self) -> dict[str, str]:
        """The images the tests deploy, by name: their digests (``self.digests``).

        ``app:v1`` is the base image, ``app:v2`` differs by a label only, and
        ``app:moving`` starts as v1 (tests move it); ``bad-exit`` exits 3 whatever
        it is told to run; ``bad-health`` runs but its healthcheck always fails.
        """
        self.digests = {'app:v1': self.push('dpt/app', 'v1'),
                        'app:moving': self.push('dpt/app', 'moving')}
        self.local = {'app:v1': BASE_IMAGE, 'app:moving': BASE_IMAGE}
        for name, dockerfile in (
                ('app:v2', 'LABEL version=2'),
                ('bad-exit:1', 'ENTRYPOINT ["sh", "-c", '
                               '"echo bad image: giving up >&2; exit 3", "--"]'),
                ('bad-health:1', 'HEALTHCHECK --interval=1s --timeout=1s --retries=1 '
                                 'CMD ["false"]')):
            built = self.local[name] = self.build(name.replace(':', '-'), dockerfile)
            repository, tag = name.split(':')
            self.digests[name] = self.push(f'dpt/{repository}', tag, built)
        return self.digests

    def ref(self, name: str) -> str:
        """``app:v1`` -> the reference the engines use (by tag)."""
        repository, tag = name.split(':')
        return self.image(f'dpt/{repository}', tag)

    def blueprint_inputs(self, prefix: str = 'swarm-demo',
                         greeting: str = 'hello from the swarm') -> dict[str, Any]:
        """Inputs for blueprints/swarm.yaml on this lab: the first engine initialises,
        the second joins as a manager, the third as a worker; the web image is the
        base image pushed to the lab's registry."""
        self.push('demo/web', '1')
        first, second, third = self.engines[:3]
        return {'prefix': prefix, 'manager': first.daemon_client(),
                'advertise_addr': first.address,
                'managers': [{'daemon_client': second.daemon_client(),
                              'advertise_addr': second.address}],
                'workers': [{'daemon_client': third.daemon_client(),
                             'advertise_addr': third.address}],
                'address_pool': [f'10.253.{self.tag}.0/24'],
                'image': self.image('demo/web', '1'), 'greeting': greeting}

    # ------------------------------------------------------------------- swarm
    @property
    def manager(self) -> SwarmEngine:
        return self.engines[0]

    def form(self) -> None:
        """Engine 0 initialises a swarm; the others join as workers (by the CLI)."""
        if self.manager.swarm_state() != 'active':
            self.manager.docker('swarm', 'init', '--advertise-addr', self.manager.address,
                                '--dispatcher-heartbeat', HEARTBEAT,
                                '--default-addr-pool', f'10.253.{self.tag}.0/24',
                                '--default-addr-pool-mask-length', '28')
        token = self.manager.docker('swarm', 'join-token', '-q', 'worker')
        for engine in self.engines[1:]:
            if engine.swarm_state() != 'active':
                engine.docker('swarm', 'join', '--token', token, '--advertise-addr',
                              engine.address, f'{self.manager.address}:2377')
        self.wait_nodes_ready(len(self.engines))

    def ensure_formed(self) -> None:
        """Formed, with every engine running and every node ready."""
        for engine in self.engines:
            if engine.process is None or engine.process.poll() is not None:
                engine.start()
        if any(e.swarm_state() != 'active' for e in self.engines) or \
                self.manager.docker('node', 'ls', '-q', check=False).count('\n') + 1 != \
                len(self.engines):
            self.dissolve()
            self.form()
        self.wait_nodes_ready(len(self.engines))

    def ensure_unformed(self) -> None:
        for engine in self.engines:
            if engine.process is None or engine.process.poll() is not None:
                engine.start()
        self.dissolve()

    def remove_labelled(self, labels: dict[str, str]) -> None:
        """Services, secrets, configs and networks on the swarm carrying the labels."""
        if self.manager.swarm_state() != 'active':
            return
        filters = [arg for k, v in labels.items() for arg in ('--filter', f'label={k}={v}')]
        for kind in ('service', 'secret', 'config', 'network'):
            ids = self.manager.docker(kind, 'ls', '-q', *filters, check=False).split()
            if ids:
                self.manager.docker(kind, 'rm', *ids, check=False)

    def dissolve(self) -> None:
        """Every service, secret, config and swarm network gone; every engine out."""
        if self.manager.swarm_state() == 'active':
            for kind in ('service', 'secret', 'config'):
                ids = self.manager.docker(kind, 'ls', '-q', check=False).split()
                if ids:
                    self.manager.docker(kind, 'rm', *ids, check=False)
        for engine in reversed(self.engines):
            if engine.process is not None and engine.swarm_state() != 'inactive':
                engine.docker('swarm', 'leave', '--force', check=False, timeout=60)

    def wait_nodes_ready(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.manager.docker('node', 'ls', '--format', '{{.Status}}',
                                         check=False).split()
            if states.count('Ready') >= count:
                return
            time.sleep(0.2)
        raise RuntimeError(f'{count} swarm nodes were not Ready within {timeout:g} s')

    # --------------------------------------------------------------- lifecycle
    def up(self, images: bool = True) -> SwarmLab:
        self.clean()
        self.workdir.mkdir(parents=True, exist_ok=True)
        owner_file(self.tag).write_text(json.dumps({
            'pid': self.owner, 'workdir': str(self.workdir), 'size': len(self.engines),
            'tag': self.tag}))
        self.make_network()
        self.start_registry()
        for engine in self.engines:
            engine.start(wait=False)
        for engine in self.engines:
            engine.wait_ready()
        self.save()
        return self

    def save(self) -> None:
        (self.workdir / 'lab.json').write_text(json.dumps({
            'tag': self.tag, 'size': len(self.engines), 'registry': self.registry,
            'push_port': self.push_port,
            'engines': [{'name': e.name, 'address': e.address, 'url': e.url,
                         'pid': e.process.pid if e.process else None} for e in self.engines],
            'registry_pids': [p.pid for p in self._registries]}, indent=2))

    def clean(self) -> None:
        """Leave nothing: processes, mounts, namespaces, links, cgroups, data, images."""
        for registry in self._registries:
            registry.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                registry.wait(timeout=10)
        self._registries = []
        roots = [e.exec_root for e in self.engines]
        marks = [*roots, str(self.workdir / 'registry-')]
        kill_pids(processes_under(*marks))
        for engine in self.engines:
            engine.process = None
        unmount_under(*roots, *(str(e.data_root) for e in self.engines))
        for engine in self.engines:
            quiet('ip', 'netns', 'del', engine.name)
            remove_cgroups(engine.name)
            shutil.rmtree(engine.exec_root, ignore_errors=True)
            for leftover in (f'{engine.exec_root}.pid', f'{engine.exec_root}.sock'):
                with contextlib.suppress(OSError):
                    os.remove(leftover)
        quiet('ip', 'netns', 'del', self.hub)
        quiet('ip', 'link', 'del', f'dps{self.tag}m')
        shutil.rmtree(self.workdir / 'registry-data', ignore_errors=True)
        for engine in self.engines:
            shutil.rmtree(engine.workdir, ignore_errors=True)
        with contextlib.suppress(OSError):
            owner_file(self.tag).unlink()
        images = run('docker', 'images', '-q', '--filter', f'label={LAB_LABEL}={self.tag}',
                      check=False).stdout.split()
        if images:
            quiet('docker', 'rmi', '-f', *sorted(set(images)))


@contextlib.contextmanager
def swarm_lab(workdir: Path, size: int = 3, tag: int | None = None) -> Iterator[SwarmLab]:
    lab = SwarmLab(workdir, size, tag)
    try:
        yield lab.up()
    finally:
        lab.clean()


def main() -> int:
    parser = argparse.ArgumentParser(description='a multi-engine swarm on this machine')
    parser.add_argument('action', choices=('up', 'down', 'inputs'),
                        help='inputs: push the demo image, print inputs for swarm.yaml')
    parser.add_argument('--dir', required=True, type=Path)
    parser.add_argument('--size', type=int, default=3)
    parser.add_argument('--tag', type=int)
    parser.add_argument('--form', action='store_true', help='init and join by the CLI')
    args = parser.parse_args()
    state = args.dir / 'lab.json'
    if args.action == 'down':
        saved = json.loads(state.read_text()) if state.exists() else {}
        SwarmLab(args.dir, saved.get('size', args.size), saved.get('tag', args.tag)).clean()
        return 0
    if args.action == 'inputs':
        saved = json.loads(state.read_text())
        lab = SwarmLab(args.dir, saved['size'], saved['tag'])
        lab.push_port = saved['push_port']
        print(json.dumps(lab.blueprint_inputs()))
        return 0
    # The lab outlives this process: it belongs to the script that called it.
    lab = SwarmLab(args.dir, args.size, args.tag, owner=os.getppid()).up()
    if args.form:
        lab.form()
    print(state.read_text())
    return 0


if __name__ == '__main__':
    sys.exit(main())
