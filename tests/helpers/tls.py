"""Real TLS for tests: an openssl-made CA and certificates, and a TLS front for
the local engine's socket that demands a client certificate (what
``dockerd --tlsverify`` does), listening on 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import select
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

DOCKER_SOCKET = '/var/run/docker.sock'


@dataclasses.dataclass
class Pki:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path


def _openssl(*args: str) -> None:
    subprocess.run(['openssl', *args], check=True, capture_output=True, timeout=60)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f'{name}.key', directory / f'{name}.crt'
    _openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out',
             str(cert), '-days', '2', '-subj', f'/CN={name}')
    return cert, key


def _signed(directory: Path, name: str, ca: tuple[Path, Path], ext: str) -> tuple[Path, Path]:
    key, csr, cert = (directory / f'{name}.key', directory / f'{name}.csr',
                      directory / f'{name}.crt')
    extfile = directory / f'{name}.ext'
    extfile.write_text(ext)
    _openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out', str(csr),
             '-subj', f'/CN={name}')
    _openssl('x509', '-req', '-in', str(csr), '-CA', str(ca[0]), '-CAkey', str(ca[1]),
             '-CAcreateserial', '-out', str(cert), '-days', '2', '-extfile', str(extfile))
    return cert, key


def make_pki(directory: Path, server_ips: tuple[str, ...] = ('127.0.0.1',)) -> Pki:
    """A CA, a server certificate for ``server_ips`` and a client certificate."""
    ca = _ca(directory, 'ca')
    other = _ca(directory, 'other-ca')
    names = ','.join([f'IP:{ip}' for ip in server_ips] + ['DNS:localhost'])
    server = _signed(directory, 'server', ca,
                     f'subjectAltName={names}\nextendedKeyUsage=serverAuth\n')
    client = _signed(directory, 'client', ca, 'extendedKeyUsage=clientAuth\n')
    return Pki(ca[0], server[0], server[1], client[0], client[1], other[0])


def _pipe(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    sockets = [a, b]
    try:
        while not stop.is_set():
            ready, _, _ = select.select(sockets, [], [], 0.5)
            for sock in ready:
                if isinstance(sock, ssl.SSLSocket):
                    data = sock.recv(65536)
                else:
                    data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
                # SSL may hold more decrypted bytes than select can see.
                while isinstance(sock, ssl.SSLSocket) and sock.pending():
                    (b if sock is a else a).sendall(sock.recv(sock.pending()))
    except OSError:
        return
    finally:
        a.close()
        b.close()


@contextlib.contextmanager
def tls_engine_front(pki: Pki) -> Iterator[str]:
    """Serve the local engine over mutual TLS on 127.0.0.1; yields ``tcp://127.0.0.1:PORT``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    context.load_verify_locations(str(pki.ca_cert))
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(16)
    listener.settimeout(0.5)
    stop = threading.Event()
    handshakes: list[str] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                raw.settimeout(10)
                conn = context.wrap_socket(raw, server_side=True)
                conn.settimeout(None)
                handshakes.append(conn.getpeercert()['subject'][0][0][1])
            except (ssl.SSLError, OSError) as exc:
                handshakes.append(f'refused: {exc}')
                raw.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(DOCKER_SOCKET)
            threading.Thread(target=_pipe, args=(conn, upstream, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f'tcp://127.0.0.1:{listener.getsockname()[1]}'
        tls_engine_front.handshakes = handshakes  # type: ignore[attr-defined]
        yield url
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)
