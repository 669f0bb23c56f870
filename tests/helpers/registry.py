"""Real registries for tests: Debian's docker-registry on 127.0.0.1 with
htpasswd auth, over plain HTTP or over TLS (the engine trusts the test CA
through /etc/docker/certs.d/127.0.0.1:PORT/ca.crt for as long as it runs)."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

from helpers.tls import make_pki

CERTS_D = Path('/etc/docker/certs.d')


@dataclasses.dataclass
class Registry:
    address: str       # 127.0.0.1:PORT
    username: str
    password: str
    tls: bool

    @property
    def auth(self) -> dict[str, str]:
        return {'username': self.username, 'password': self.password, 'registry': self.address}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def run_registry(workdir: Path, tls: bool = False, username: str = 'alice',
                 password: str | None = None) -> Iterator[Registry]:
    """Start a registry; stop it and remove its trust entry afterwards. The password is
    new for each registry (no source file holds it: the canary tests look for it)."""
    password = password or f'registry-{secrets.token_hex(8)}-Pa55'
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    address = f'127.0.0.1:{port}'
    htpasswd = subprocess.run(['htpasswd', '-Bbn', username, password], check=True,
                              capture_output=True, text=True, timeout=30).stdout
    (workdir / 'htpasswd').write_text(htpasswd)
    tls_block, trust_dir = '', None
    if tls:
        (workdir / 'pki').mkdir(exist_ok=True)
        pki = make_pki(workdir / 'pki')
        tls_block = (f'  tls:\n    certificate: {pki.server_cert}\n'
                     f'    key: {pki.server_key}\n')
        trust_dir = CERTS_D / address
        trust_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(pki.ca_cert, trust_dir / 'ca.crt')
    (workdir / 'config.yml').write_text(
        'version: 0.1\n'
        'log:\n  level: warn\n'
        f'storage:\n  filesystem:\n    rootdirectory: {workdir / "data"}\n'
        '  delete:\n    enabled: true\n'
        f'http:\n  addr: {address}\n{tls_block}'
        f'auth:\n  htpasswd:\n    realm: test-registry\n    path: {workdir / "htpasswd"}\n')
    log = open(workdir / 'registry.log', 'w')
    process = subprocess.Popen(['docker-registry', 'serve', str(workdir / 'config.yml')],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(address, tls, process)
        yield Registry(address, username, password, tls)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if trust_dir is not None:
            shutil.rmtree(trust_dir, ignore_errors=True)


def _wait_ready(address: str, tls: bool, process: subprocess.Popen) -> None:
    import ssl
    context = ssl._create_unverified_context() if tls else None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f'docker-registry exited with {process.returncode}')
        try:
            urllib.request.urlopen(f'{"https" if tls else "http"}://{address}/v2/', timeout=1,
                                   context=context)
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # up, and asking for credentials
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f'docker-registry on {address} did not answer in 20 s')
