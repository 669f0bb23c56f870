"""A second, remote-like Docker engine for tests: its own network namespace
(a test host on a veth pair), its own dockerd listening only on
``tcp://ADDR:2376`` with ``--tlsverify`` and openssl-made certificates.

It gets its own bridge inside the namespace, so it cannot disturb the main
engine, and the base image is copied into it with ``docker save | load``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

from helpers.tls import Pki, make_pki


@dataclasses.dataclass
class RemoteEngine:
    address: str
    port: int
    pki: Pki
    subnet_prefix: str  # the remote bridge's 172.31.N. prefix

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


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def remote_engine(workdir: Path, image: str) -> Iterator[RemoteEngine]:
    """Start the engine; stop it and remove its namespace, links and files after."""
    tag = f'{os.getpid() % 200 + 20}'
    netns, host_if, ns_if = f'dpt-remote-{tag}', f'dpth{tag}', f'dptn{tag}'
    host_ip, ns_ip = f'10.250.{tag}.1', f'10.250.{tag}.2'
    (workdir / 'pki').mkdir(parents=True, exist_ok=True)
    pki = make_pki(workdir / 'pki', server_ips=(ns_ip,))
    process = None
    # Leftovers of a run that was killed before its clean-up would block the names.
    subprocess.run(['ip', 'netns', 'del', netns], capture_output=True, timeout=30)
    subprocess.run(['ip', 'link', 'del', host_if], capture_output=True, timeout=30)
    try:
        _run('ip', 'netns', 'add', netns)
        _run('ip', 'link', 'add', host_if, 'type', 'veth', 'peer', 'name', ns_if)
        _run('ip', 'link', 'set', ns_if, 'netns', netns)
        _run('ip', 'addr', 'add', f'{host_ip}/30', 'dev', host_if)
        _run('ip', 'link', 'set', host_if, 'up')
        for command in (['ip', 'addr', 'add', f'{ns_ip}/30', 'dev', ns_if],
                        ['ip', 'link', 'set', ns_if, 'up'], ['ip', 'link', 'set', 'lo', 'up']):
            _run('ip', 'netns', 'exec', netns, *command)
        log = open(workdir / 'dockerd.log', 'w')
        # nsenter, not `ip netns exec`, which would hide the cgroup mounts.
        process = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{netns}', 'dockerd',
             '--data-root', str(workdir / 'data'), '--exec-root', str(workdir / 'exec'),
             '--pidfile', str(workdir / 'dockerd.pid'), '-H', f'tcp://{ns_ip}:2376',
             '--tlsverify', '--tlscacert', str(pki.ca_cert), '--tlscert', str(pki.server_cert),
             '--tlskey', str(pki.server_key), '--bip', f'172.31.{tag}.1/24'],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        engine = RemoteEngine(ns_ip, 2376, pki, f'172.31.{tag}.')
        _wait(engine, process, workdir)
        save = subprocess.Popen(['docker', 'save', image], stdout=subprocess.PIPE)
        subprocess.run([*engine.cli(), 'load', '-q'], stdin=save.stdout, check=True,
                       capture_output=True, timeout=120)
        save.wait(timeout=60)
        yield engine
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        subprocess.run(['ip', 'netns', 'del', netns], capture_output=True, timeout=30)
        subprocess.run(['ip', 'link', 'del', host_if], capture_output=True, timeout=30)
        shutil.rmtree(workdir / 'data', ignore_errors=True)
        shutil.rmtree(workdir / 'exec', ignore_errors=True)


def _wait(engine: RemoteEngine, process: subprocess.Popen, workdir: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('the remote dockerd exited:\n'
                               + (workdir / 'dockerd.log').read_text()[-2000:])
        if subprocess.run([*engine.cli(), 'version'], capture_output=True,
                          timeout=20).returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError('the remote dockerd did not answer within 60 s')
