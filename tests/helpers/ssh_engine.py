"""An ssh:// engine for tests: Debian's sshd on a test host (a network namespace of its
own) in front of a dockerd that listens only on a unix socket there.

For a host ``tag`` (220-249: a range of its own; remote engines use 20-219 on
10.250/16, swarm labs 20-219 on 10.252/16 and 10.253/16):

* network namespace ``dpt-ssh-<tag>``, joined to this one by a veth pair
  (``dpk<tag>h`` here, ``dpk<tag>n`` there), at ``10.254.<tag>.2`` (this side
  ``.1``); traffic stays between the two;
* a dockerd in that namespace on its own unix socket only (no TCP): data root
  in the work directory, exec root ``/run/dpt-ssh-<tag>``, cgroup parent
  ``/dpt-ssh-<tag>``, its own bridge, the socket's group the test user's;
* Debian's sshd in that namespace and in a mount namespace of its own, where
  ``/etc/passwd`` and ``/etc/group`` hold the test users too (this machine's
  files are never changed) and ``/run`` is a fresh tmpfs holding the users'
  homes (``/run/home``) and, as ``docker.sock``, that engine's socket (its
  directory is bound there, so a restarted engine's new socket is found): a
  user's ``docker system dial-stdio`` reaches it by the default path, as on a
  real host, and this machine's engine socket is not there at all. It listens
  on ports 22 and 2222, takes public keys only, no root, no forwarding, no
  TTY; its host key is made for the session;
* the user ``dpt-ssh-<tag>`` (may use the engine) and ``dpt-ssh-<tag>-x`` (may
  not), each with an Ed25519 key made for the session; the private keys exist
  only in this process's memory (``user_key``, ``outsider_key``);
* ``known_hosts()``: the host key lines, as ``ssh-keyscan`` prints them.

Every wait is bounded. ``clean`` kills by PID every process in the namespace or
in the engine's cgroups or naming its directories (sshd's sessions rename
themselves), unmounts what dockerd left, removes the namespace, link, cgroups
and files; it also runs first, and a host whose owner process died without
cleaning is reaped by the next one made (``/run/dpt-ssh-<tag>.owner.json``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from helpers.swarm_host import (
    CGROUP_ROOT,
    alive,
    kill_pids,
    processes_under,
    quiet,
    remove_cgroups,
    run,
    unmount_under,
)

TAGS = range(220, 250)
PORTS = (22, 2222)
UID_BASE = 4_000_000  # far above any real account's
SSHD_SCRIPT = r'''set -e
mount --bind "$1/etc/passwd" /etc/passwd
mount --bind "$1/etc/group" /etc/group
mount -t tmpfs -o mode=0755,size=1m dpt-ssh-run /run
mkdir -m 0755 /run/sshd /run/home /run/engine
mount --bind "$1/home" /run/home
mount --bind "$1/engine" /run/engine
ln -s /run/engine/docker.sock /run/docker.sock
/usr/sbin/sshd -t -f "$1/sshd_config"
exec /usr/sbin/sshd -D -e -f "$1/sshd_config"
'''


def generate_key() -> tuple[str, str]:
    """A new Ed25519 key: (private key as OpenSSH text, public key line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public


def owner_file(tag: int) -> Path:
    return Path(f'/run/dpt-ssh-{tag}.owner.json')


def reap_stale() -> list[int]:
    """Clean hosts whose owner died without cleaning them (a killed test run)."""
    reaped = []
    for path in Path('/run').glob('dpt-ssh-*.owner.json'):
        try:
            owner = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if alive(int(owner.get('pid', 0))):
            continue
        SSHEngine(Path(owner['workdir']), int(owner['tag'])).clean()
        reaped.append(int(owner['tag']))
    return reaped


def _free_tag() -> int:
    start = os.getpid() % len(TAGS)
    for offset in range(len(TAGS)):
        tag = TAGS[(start + offset) % len(TAGS)]
        if not os.path.exists(f'/var/run/netns/dpt-ssh-{tag}') and \
                not owner_file(tag).exists():
            return tag
    raise RuntimeError('no free ssh test host tag: remove stale dpt-ssh-* namespaces')


class SSHEngine:
    """One test host: its namespace, its dockerd, its sshd, its users."""

    def __init__(self, workdir: Path, tag: int):
        self.workdir, self.tag = Path(workdir), tag
        self.name = f'dpt-ssh-{tag}'
        self.host_if, self.ns_if = f'dpk{tag}h', f'dpk{tag}n'
        self.gateway, self.address = f'10.254.{tag}.1', f'10.254.{tag}.2'
        self.subnet_prefix = f'172.30.{tag}.'  # the engine's bridge
        self.exec_root = f'/run/{self.name}'
        self.socket = self.workdir / 'engine' / 'docker.sock'
        self.user, self.outsider = self.name, f'{self.name}-x'
        self.uid = UID_BASE + tag * 2
        self.user_key, self.outsider_key, self.host_public = '', '', ''
        self.dockerd: subprocess.Popen | None = None
        self.sshd: subprocess.Popen | None = None
        self.registry: subprocess.Popen | None = None

    # ------------------------------------------------------------------ what tests use
    def known_hosts(self, port: int = 22) -> str:
        host = self.address if port == 22 else f'[{self.address}]:{port}'
        return f'{host} {self.host_public}\n'

    def daemon_client(self, port: int = 22, user: str | None = None,
                      key: str | None = None) -> dict[str, Any]:
        """What a blueprint gives: the URL, the key text (as from a secret), the host key."""
        url = f'ssh://{user or self.user}@{self.address}' + (f':{port}' if port != 22 else '')
        return {'base_url': url, 'ssh_key': key or self.user_key,
                'known_hosts': self.known_hosts(port), 'timeout': 60}

    def cli(self) -> list[str]:
        """The engine's own CLI, by its socket (not over SSH)."""
        return ['docker', '-H', f'unix://{self.socket}']

    def docker(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        return run(*self.cli(), *args, timeout=timeout, check=check).stdout.strip()

    # ------------------------------------------------------------------ the host
    def make_network(self) -> None:
        run('ip', 'netns', 'add', self.name)
        run('ip', 'link', 'add', self.host_if, 'type', 'veth', 'peer', 'name', self.ns_if)
        run('ip', 'link', 'set', self.ns_if, 'netns', self.name)
        run('ip', 'addr', 'add', f'{self.gateway}/30', 'dev', self.host_if)
        run('ip', 'link', 'set', self.host_if, 'up')
        for command in (['ip', 'addr', 'add', f'{self.address}/30', 'dev', self.ns_if],
                        ['ip', 'link', 'set', self.ns_if, 'up'], ['ip', 'link', 'set', 'lo', 'up']):
            run('ip', 'netns', 'exec', self.name, *command)

    def make_users(self) -> None:
        """The users' accounts (in files only sshd's mount namespace sees), homes and
        authorized keys; the host key."""
        etc = self.workdir / 'etc'
        etc.mkdir(parents=True, exist_ok=True)
        accounts = []
        (self.workdir / 'home').mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.workdir / 'home', 0o755)
        for offset, name in enumerate((self.user, self.outsider)):
            uid, home = self.uid + offset, self.workdir / 'home' / name
            private, public = generate_key()
            if offset == 0:
                self.user_key = private
            else:
                self.outsider_key = private
            (home / '.ssh').mkdir(parents=True, exist_ok=True)
            (home / '.ssh' / 'authorized_keys').write_text(public + '\n')
            for path, mode in ((home, 0o700), (home / '.ssh', 0o700),
                               (home / '.ssh' / 'authorized_keys', 0o600)):
                os.chown(path, uid, uid)
                os.chmod(path, mode)
            accounts.append((name, uid, f'/run/home/{name}'))  # where sshd's namespace has it
        passwd = Path('/etc/passwd').read_text().rstrip('\n') + '\n' + ''.join(
            f'{name}:*:{uid}:{uid}:docker plugin test:{home}:/bin/sh\n'
            for name, uid, home in accounts)
        group = Path('/etc/group').read_text().rstrip('\n') + '\n' + ''.join(
            f'{name}:x:{uid}:\n' for name, uid, _ in accounts)
        (etc / 'passwd').write_text(passwd)
        (etc / 'group').write_text(group)
        host_private, self.host_public = generate_key()
        host_key = self.workdir / 'ssh_host_ed25519_key'
        host_key.touch(mode=0o600)
        host_key.write_text(host_private)

    def write_sshd_config(self) -> None:
        listen = ''.join(f'ListenAddress {self.address}:{port}\n' for port in PORTS)
        (self.workdir / 'sshd_config').write_text(
            f'{listen}HostKey {self.workdir / "ssh_host_ed25519_key"}\nPidFile none\n'
            'UsePAM no\nPermitRootLogin no\nPasswordAuthentication no\n'
            'KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n'
            'AuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes\n'
            f'AllowUsers {self.user} {self.outsider}\nAllowTcpForwarding no\n'
            'AllowAgentForwarding no\nX11Forwarding no\nPermitTTY no\nPrintMotd no\n'
            'PrintLastLog no\nUseDNS no\nLogLevel VERBOSE\nMaxStartups 50\n')

    def authorize(self, public_line: str) -> None:
        """Another key the user may log in with."""
        keys = self.workdir / 'home' / self.user / '.ssh' / 'authorized_keys'
        keys.write_text(keys.read_text() + public_line.strip() + '\n')

    # ------------------------------------------------------------------ dockerd
    def start_engine(self) -> None:
        """dockerd (again, on the same data root, after stop_engine)."""
        self.socket.parent.mkdir(mode=0o755, exist_ok=True)
        log = open(self.workdir / 'dockerd.log', 'a')
        self.dockerd = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{self.name}', 'dockerd',
             '--data-root', str(self.workdir / 'data'), '--exec-root', self.exec_root,
             '--pidfile', f'{self.exec_root}.pid', '-H', f'unix://{self.socket}',
             '--group', str(self.uid), '--bip', f'172.30.{self.tag}.1/24',
             '--cgroup-parent', f'/{self.name}', '--log-level', 'warn'],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.dockerd.poll() is not None:
                raise RuntimeError('the ssh host dockerd exited:\n' +
                                   (self.workdir / 'dockerd.log').read_text()[-2000:])
            if run(*self.cli(), 'version', timeout=20, check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError('the ssh host dockerd did not answer within 60 s')

    def stop_engine(self) -> None:
        """dockerd stops (its containers with it) while sshd stays up."""
        if self.dockerd is not None:
            self.dockerd.send_signal(signal.SIGTERM)
            try:
                self.dockerd.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.dockerd.kill()
                self.dockerd.wait(timeout=10)
            self.dockerd = None

    def load(self, image: str) -> None:
        save = subprocess.Popen(['docker', 'save', image], stdout=subprocess.PIPE)
        subprocess.run([*self.cli(), 'load', '-q'], stdin=save.stdout, check=True,
                       capture_output=True, timeout=120)
        save.wait(timeout=60)

    # ------------------------------------------------------------------ sshd
    def start_sshd(self) -> None:
        """sshd, listening on both ports within 20 s (again after kill_sshd)."""
        log = open(self.workdir / 'sshd.log', 'a')
        self.sshd = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{self.name}', 'unshare', '--mount',
             '--propagation', 'private', 'sh', '-c', SSHD_SCRIPT, 'sh', str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise RuntimeError('sshd exited:\n' +
                                   (self.workdir / 'sshd.log').read_text()[-2000:])
            if all(self._answers(port) for port in PORTS):
                return
            time.sleep(0.1)
        raise RuntimeError('sshd did not listen within 20 s')

    def _answers(self, port: int) -> bool:
        import socket
        try:
            with socket.create_connection((self.address, port), timeout=1) as sock:
                return sock.recv(4).startswith(b'SSH-')
        except OSError:
            return False

    def sshd_pids(self) -> list[int]:
        """sshd and every session it serves (they rename themselves: found by namespace)."""
        return [pid for pid in self._in_namespace() if comm(pid) in ('sshd', 'sshd-session')]

    def kill_sshd(self) -> None:
        """sshd goes down with every session it serves, as when the host's sshd dies."""
        kill_pids(self.sshd_pids())
        if self.sshd is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.sshd.wait(timeout=10)
            self.sshd = None

    def unplug(self) -> None:
        """The host's network goes down: the address no longer answers at all."""
        run('ip', 'netns', 'exec', self.name, 'ip', 'link', 'set', self.ns_if, 'down')

    def plug(self) -> None:
        run('ip', 'netns', 'exec', self.name, 'ip', 'link', 'set', self.ns_if, 'up')
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not self._answers(22):
            time.sleep(0.2)

    # ------------------------------------------------------------------ a registry there
    def start_registry(self, image: str) -> str:
        """A registry on the host's own loopback (127.0.0.1:5000 there), holding ``image``
        as ``127.0.0.1:5000/dpt/base:1``; returns that reference (for the engine there)."""
        storage = self.workdir / 'registry'
        storage.mkdir(exist_ok=True)
        config = self.workdir / 'registry.yml'
        config.write_text('version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n'
                          f'    rootdirectory: {storage}\nhttp:\n  addr: 127.0.0.1:5000\n')
        log = open(self.workdir / 'registry.log', 'w')
        self.registry = subprocess.Popen(
            ['nsenter', f'--net=/var/run/netns/{self.name}', 'docker-registry', 'serve',
             str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        reference = '127.0.0.1:5000/dpt/base:1'
        self.docker('tag', image, reference)
        deadline = time.monotonic() + 30
        while True:
            pushed = run(*self.cli(), 'push', reference, timeout=60, check=False)
            if pushed.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f'push to the ssh host registry failed: {pushed.stderr}')
            time.sleep(0.5)
        self.docker('rmi', reference)
        return reference

    # ------------------------------------------------------------------ life
    def up(self, image: str) -> SSHEngine:
        self.clean()
        self.workdir.mkdir(parents=True, exist_ok=True)
        owner_file(self.tag).write_text(json.dumps({'pid': os.getpid(), 'tag': self.tag,
                                                    'workdir': str(self.workdir)}))
        self.make_network()
        self.make_users()
        self.write_sshd_config()
        self.start_engine()
        self.load(image)
        self.start_sshd()
        return self

    def _in_namespace(self) -> list[int]:
        try:
            netns = os.stat(f'/var/run/netns/{self.name}')
        except OSError:
            return []
        found = []
        for pid in os.listdir('/proc'):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                ns = os.stat(f'/proc/{pid}/ns/net')
            except OSError:
                continue
            if (ns.st_ino, ns.st_dev) == (netns.st_ino, netns.st_dev):
                found.append(int(pid))
        return found

    def _in_cgroups(self) -> list[int]:
        found: set[int] = set()
        if CGROUP_ROOT.is_dir():
            for procs in CGROUP_ROOT.glob(f'*/{self.name}/**/cgroup.procs'):
                with contextlib.suppress(OSError, ValueError):
                    found |= {int(p) for p in procs.read_text().split()}
        return sorted(found)

    def clean(self) -> None:
        """Leave nothing: processes, mounts, namespace, link, cgroups, files."""
        for process in (self.sshd, self.dockerd, self.registry):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        if self.dockerd is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.dockerd.wait(timeout=20)  # it stops its containers
        kill_pids(sorted({*self._in_namespace(), *self._in_cgroups(),
                          *processes_under(self.exec_root, str(self.workdir))}))
        for process in (self.sshd, self.dockerd, self.registry):
            if process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
        self.sshd = self.dockerd = self.registry = None
        unmount_under(self.exec_root, str(self.workdir))
        quiet('ip', 'netns', 'del', self.name)
        quiet('ip', 'link', 'del', self.host_if)
        remove_cgroups(self.name)
        shutil.rmtree(self.exec_root, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.remove(f'{self.exec_root}.pid')
        for name in ('data', 'home', 'etc', 'registry', 'engine'):
            shutil.rmtree(self.workdir / name, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.workdir / 'ssh_host_ed25519_key').unlink()
        with contextlib.suppress(OSError):
            owner_file(self.tag).unlink()


def comm(pid: int) -> str:
    try:
        return Path(f'/proc/{pid}/comm').read_text().strip()
    except OSError:
        return ''


@contextlib.contextmanager
def ssh_engine(workdir: Path, image: str, tag: int | None = None) -> Iterator[SSHEngine]:
    """A test host with ``image`` loaded in its engine; gone after, whatever happened."""
    if tag is None:
        reap_stale()
    engine = SSHEngine(workdir, tag if tag is not None else _free_tag())
    try:
        yield engine.up(image)
    finally:
        engine.clean()
