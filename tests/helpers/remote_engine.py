"""A second, remote-like Docker engine for tests: its own network namespace
(a test host on a veth pair), its own dockerd listening only on
``tcp://ADDR:2376`` with ``--tlsverify`` and openssl-made certificates.

It gets its own bridge inside the namespace, so it cannot disturb the main
engine, and the base image is copied into it with ``docker save | load``.
Fault tests ``kill()`` it (SIGKILL, as a crash) and ``start()`` it again on
the same data root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

from helpers.tls import Pki, make_pki


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=60)


class RemoteEngine:
    """One namespaced dockerd; ``tag`` (20-219) picks its names and addresses."""

    def __init__(self, workdir: Path, tag: int, extra_args: tuple[str, ...] = ()):
        self.workdir = workdir
        self.tag = tag
        self.netns, self.host_if, self.ns_if = f'dpt-remote-{tag}', f'dpth{tag}', f'dptn{tag}'
        self.host_ip, self.address = f'10.250.{tag}.1', f'10.250.{tag}.2'
        self.port = 2376
        self.subnet_prefix = f'172.31.{tag}.'  # the remote bridge's addresses
        self.extra_args = extra_args
        (workdir / 'pki').mkdir(parents=True, exist_ok=True)
        self.pki: Pki = make_pki(workdir / 'pki', server_ips=(self.address,))
        self.process: subprocess.Popen | None = None

    # ------------------------------------------------------------- what a test uses
    def daemon_client(self) -> dict[str, str | int]:
        """What a blueprint would give: host, port and the PEM texts."""
        return {'host': self.address, 'port': self.port,
                'ca_cert': self.pki.ca_cert.read_text(),
                'client_cert': self.pki.client_cert.read_text(),
                'client_key': self.pki.client_key.read_text()}

    def cli(self) -> list[str]:
        return ['docker', '-H', f'tcp://{self.address}:{self.port}', '--tlsverify',
                '--tlscacert', str(self.pki.ca_cert), '--tlscert', str(self.pki.client_cert),
                '--tlskey', str(self.pki.client_key)]

    # ------------------------------------------------------------- the host and engine
    def make_host(self) -> None:
        """The namespace and its veth link (leftovers of a killed run removed first)."""
        self.remove_host()
        _run('ip', 'netns', 'add', self.netns)
        _run('ip', 'link', 'add', self.host_if, 'type', 'veth', 'peer', 'name', self.ns_if)
        _run('ip', 'link', 'set', self.ns_if, 'netns', self.netns)
        _run('ip', 'addr', 'add', f'{self.host_ip}/30', 'dev', self.host_if)
        _run('ip', 'link', 'set', self.host_if, 'up')
        for command in (['ip', 'addr', 'add', f'{self.address}/30', 'dev', self.ns_if],
                        ['ip', 'link', 'set', self.ns_if, 'up'],
                        ['ip', 'link', 'set', 'lo', 'up']):
            _run('ip', 'netns', 'exec', self.netns, *command)

    def remove_host(self) -> None:
        subprocess.run(['ip', 'netns', 'del', self.netns], capture_output=True, timeout=30)
        subprocess.run(['ip', 'link', 'del', self.host_if], capture_output=True, timeout=30)

    def start(self, wait: bool = True) -> None:
        """Start dockerd (again, on the same data root after a kill)."""
        self._forget_dead_containerd()
        log = open(self.workdir / 'dockerd.log', 'a')
        # nsenter, not `ip netns exec`, which would hide the cgroup mounts.
        self.process = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{self.netns}', 'dockerd',
             '--data-root', str(self.workdir / 'data'),
             '--exec-root', str(self.workdir / 'exec'),
             '--pidfile', str(self.workdir / 'dockerd.pid'),
             '-H', f'tcp://{self.address}:{self.port}', '--tlsverify',
             '--tlscacert', str(self.pki.ca_cert), '--tlscert', str(self.pki.server_cert),
             '--tlskey', str(self.pki.server_key), '--bip', f'172.31.{self.tag}.1/24',
             *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError('the remote dockerd exited:\n'
                                   + (self.workdir / 'dockerd.log').read_text()[-2000:])
            if subprocess.run([*self.cli(), 'version'], capture_output=True,
                              timeout=20).returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError(f'the remote dockerd did not answer within {timeout:g} s')

    def _forget_dead_containerd(self) -> None:
        """After a kill, the pid file of its containerd may name a dead (or zombie,
        never reaped here) process: dockerd would wait for it to answer, forever."""
        pidfile = self.workdir / 'exec' / 'containerd' / 'containerd.pid'
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            state = next((line.split()[1] for line in Path(f'/proc/{pid}/status').read_text()
                          .splitlines() if line.startswith('State:')), 'Z')
        except OSError:
            state = 'gone'
        if state in ('Z', 'X', 'gone'):
            pidfile.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL dockerd, as a crash would (its containerd and containers live on)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """containerd and shims started under this engine's exec root, by PID."""
        root = str(self.workdir / 'exec')
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                cmdline = Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')
            except OSError:
                continue
            if root in cmdline:
                with contextlib.suppress(OSError):
                    os.kill(int(pid), signal.SIGKILL)

    def load(self, image: str) -> None:
        save = subprocess.Popen(['docker', 'save', image], stdout=subprocess.PIPE)
        subprocess.run([*self.cli(), 'load', '-q'], stdin=save.stdout, check=True,
                       capture_output=True, timeout=120)
        save.wait(timeout=60)

    def _unmount_all(self) -> None:
        """Mounts a killed dockerd left under its roots (it mounts its data root on
        itself, and network namespaces under its exec root), deepest first."""
        root = str(self.workdir)
        points = [line.split()[1] for line in Path('/proc/self/mounts').read_text().splitlines()
                  if line.split()[1].startswith(root + '/')]
        for point in sorted(set(points), key=len, reverse=True):
            subprocess.run(['umount', '-l', point], capture_output=True, timeout=30)

    def clean(self) -> None:
        self.stop()
        self._unmount_all()
        self.remove_host()
        for name in ('data', 'exec'):
            shutil.rmtree(self.workdir / name, ignore_errors=True)


@contextlib.contextmanager
def remote_engine(workdir: Path, image: str, tag: int | None = None,
                  extra_args: tuple[str, ...] = ()) -> Iterator[RemoteEngine]:
    """Start an engine with ``image`` loaded; stop it and remove its namespace,
    links and files after (also when the test failed or the engine was killed)."""
    engine = RemoteEngine(workdir, tag if tag is not None else os.getpid() % 200 + 20,
                          extra_args)
    try:
        engine.make_host()
        engine.start()
        engine.load(image)
        yield engine
    finally:
        engine.clean()
