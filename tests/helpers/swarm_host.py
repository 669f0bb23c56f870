"""Host plumbing of the test swarm (tests/helpers/swarm.py): processes, mounts,
cgroups, and one namespaced ``dockerd`` (``SwarmEngine``).

Every wait is bounded; processes are found and killed by PID, by the marks in
their command lines (an engine's exec root), never by name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

CGROUP_ROOT = Path('/sys/fs/cgroup')
HEARTBEAT = '2s'  # dispatcher heartbeat: a killed engine is Down in ~5 s, not ~13 s


def run(*args: str, timeout: float = 60, check: bool = True,
         stdin: int | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True,
                          timeout=timeout, stdin=stdin)


def quiet(*args: str) -> None:
    subprocess.run(list(args), capture_output=True, timeout=30, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def processes_under(*marks: str) -> list[int]:
    """PIDs whose command line mentions any of ``marks``."""
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')
        except OSError:
            continue
        if any(mark in cmdline for mark in marks):
            found.append(int(pid))
    return found


def _running(pid: int) -> bool:
    """Not gone and not a zombie (a killed child stays one until it is waited for)."""
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return False
    return stat.rpartition(')')[2].split()[0] != 'Z'


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.05)


def unmount_under(*prefixes: str) -> None:
    """Lazily unmount everything mounted below the prefixes, deepest first."""
    mounts = []
    with open('/proc/self/mounts') as handle:
        for line in handle:
            point = line.split()[1].replace('\\040', ' ')
            if any(point == p or point.startswith(p.rstrip('/') + '/') for p in prefixes):
                mounts.append(point)
    for point in sorted(set(mounts), key=len, reverse=True):
        quiet('umount', '-l', point)


def remove_cgroups(name: str) -> None:
    """The engine's cgroup parent in every hierarchy, children first."""
    if not CGROUP_ROOT.is_dir():
        return
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for _ in range(3):
            for directory in sorted((p for p in top.rglob('*') if p.is_dir()),
                                    key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    directory.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
            if not top.exists():
                break
            time.sleep(0.2)


def owner_file(tag: int) -> Path:
    return Path(f'/run/dpt-swarm-{tag}.owner.json')


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclasses.dataclass
class SwarmEngine:
    """One namespaced dockerd of the lab."""

    lab_tag: int
    index: int
    workdir: Path
    registry: str  # the address the engines pull from (ADDR:5000)
    process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return f'dpt-swarm-{self.lab_tag}-{self.index}'

    @property
    def address(self) -> str:
        return f'10.252.{self.lab_tag}.{10 + self.index}'

    @property
    def url(self) -> str:
        return f'tcp://{self.address}:2375'

    @property
    def exec_root(self) -> str:
        return f'/run/{self.name}'

    @property
    def data_root(self) -> Path:
        return self.workdir / 'data'

    def daemon_client(self) -> dict[str, str]:
        return {'base_url': self.url, 'version': '1.41', 'timeout': 30}

    def cli(self) -> list[str]:
        return ['docker', '-H', self.url]

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        """The CLI against this engine. An update the manager answers "update out of
        sequence" (the node or service changed between the CLI's read and its write:
        a node's own status updates do that) is tried again, as the CLI's user would,
        at most 5 times; a failure says what the CLI printed."""
        for attempt in range(5):
            done = run(*self.cli(), *args, timeout=timeout, check=False)
            if done.returncode == 0 or 'out of sequence' not in done.stderr or attempt == 4:
                break
            time.sleep(0.5)
        if check and done.returncode:
            raise RuntimeError(f'{" ".join(done.args)} exited {done.returncode}: '
                               f'{done.stderr.strip()[-2000:]}')
        return done.stdout.strip()

    def start(self, wait: bool = True) -> None:
        """Start dockerd (again, on the same data root after a kill)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._forget_dead_containerd()
        log = open(self.workdir / 'dockerd.log', 'a')
        dockerd = ['dockerd', '--data-root', str(self.data_root),
                   '--exec-root', self.exec_root, '--pidfile', f'{self.exec_root}.pid',
                   '-H', f'unix://{self.exec_root}.sock', '-H', self.url, '--tls=false',
                   '--bip', f'172.29.{10 + self.index}.1/24', '--cgroup-parent', f'/{self.name}',
                   '--insecure-registry', self.registry, '--log-level', 'warn']
        script = f'hostname {self.name} && exec "$@"'
        # nsenter, not `ip netns exec`, which would hide the cgroup mounts; a UTS
        # namespace of its own gives each node its own host name. Every step execs,
        # so the Popen's PID is dockerd's.
        self.process = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{self.name}', 'unshare', '--uts', 'sh', '-c',
             script, 'sh', *dockerd],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f'{self.name}: dockerd exited:\n'
                                   + (self.workdir / 'dockerd.log').read_text()[-2000:])
            try:
                if run(*self.cli(), 'version', timeout=10, check=False).returncode == 0:
                    return
            except subprocess.TimeoutExpired:  # still starting (e.g. rejoining its swarm)
                pass
            time.sleep(0.2)
        raise RuntimeError(f'{self.name}: dockerd did not answer within {timeout:g} s')

    def _forget_dead_containerd(self) -> None:
        """After a kill, the pid file of its containerd may name a dead (or zombie,
        never reaped here) process: dockerd would wait for it to answer, then give up."""
        pidfile = Path(self.exec_root, 'containerd', 'containerd.pid')
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if not _running(pid):
            pidfile.unlink(missing_ok=True)

    def kill(self) -> None:
        """A crash of the whole machine: dockerd, containerd and every task, at once."""
        pids = processes_under(self.exec_root)
        if self.process is not None:
            pids.append(self.process.pid)
        kill_pids(pids)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            self.process = None
        unmount_under(self.exec_root)

    def swarm_state(self) -> str:
        return self.docker('info', '--format', '{{.Swarm.LocalNodeState}}', timeout=20,
                           check=False)
