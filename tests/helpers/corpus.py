"""The compose corpus (tests/corpus/compose): its projects, stand-in images, and the
state of a running project, normalised so that two runs under different names compare.

No image can be pulled here, so every image a corpus file names is a stand-in
built on busybox (``standins/``) under the real name, labelled, and removed by
that label afterwards. A project's state is what ``docker compose up --wait``
is about: per service its containers (state, health, exit code, image, command,
entrypoint, user, working directory, environment, healthcheck, restart policy,
mounts, ports, networks, labels the file sets, shm size, stop settings), and
the project's networks and volumes; names are given with the project's name
replaced by ``<project>``, so a compose run and a Cloudify one compare.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import docker
import yaml

from docker_plugin.importer.images import normalised
from docker_plugin.resources.compose.binary import find_binary

CORPUS = Path(__file__).resolve().parents[1] / 'corpus' / 'compose'
STANDINS = CORPUS / 'standins'
BASE_TAG = 'docker-plugin/compose-standin:base'
STANDIN_LABEL = 'docker-plugin.compose-standin'
# Labels that say who made a container, not what the file asked for.
MADE_BY = ('com.docker.compose.', 'cloudify.', 'io.github.docker-plugin', 'docker-plugin')


class Unavailable(Exception):
    """The stand-ins cannot be made here (a real image holds one of their names)."""


def projects() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((CORPUS / 'corpus.yaml').read_text())['projects']


def copy_project(name: str, case: Mapping[str, Any], directory: Path) -> Path:
    """A private copy of a corpus project (compose writes bind sources into it)."""
    target = directory / name.replace('+', '-')
    shutil.copytree(CORPUS / case.get('directory', name), target)
    return target


# ------------------------------------------------------------------ stand-in images
def standin_references() -> dict[str, list[str]]:
    return yaml.safe_load((STANDINS / 'images.yaml').read_text())['images']


def build_standins(client: docker.DockerClient, session: str) -> list[str]:
    """Build the base and every stand-in image under its real name; returns the names.

    Raises:
        Unavailable: an image that is no stand-in holds one of the names.
    """
    labels = {STANDIN_LABEL: session, 'docker-plugin-test': '1'}
    references = standin_references()
    for reference in [BASE_TAG, *references]:
        try:
            found = client.images.get(reference)
        except docker.errors.ImageNotFound:
            continue
        if STANDIN_LABEL not in (found.labels or {}):
            raise Unavailable(f'{reference} is on the engine and is no stand-in: the corpus '
                              'tests would replace it')
    client.images.build(path=str(STANDINS), tag=BASE_TAG, labels=labels, rm=True,
                        forcerm=True)
    for reference, lines in references.items():
        dockerfile = '\n'.join([f'FROM {BASE_TAG}', *lines, ''])
        client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=reference,
                            labels=labels, rm=True, forcerm=True)
    return list(references)


def remove_standins(client: docker.DockerClient, session: str) -> None:
    """Every image carrying the session's stand-in label (images built FROM the base
    inherit it), the base last."""
    found = client.images.list(filters={'label': f'{STANDIN_LABEL}={session}'})
    base = client.images.get(BASE_TAG).id if any(BASE_TAG in i.tags for i in found) else None
    for image in sorted(found, key=lambda i: i.id == base):
        try:
            client.images.remove(image.id, force=True)
        except docker.errors.NotFound:
            pass


# ------------------------------------------------------------------ docker compose itself
def compose(directory: Path, project: str, files: Iterable[str], profiles: Iterable[str],
            *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The compose binary the plugin ships, run as a user would run ``docker compose``."""
    argv = [find_binary(), '-p', project, '--project-directory', str(directory)]
    for name in files:
        argv += ['-f', str(directory / name)]
    for profile in profiles:
        argv += ['--profile', profile]
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(directory)}
    return subprocess.run([*argv, *command], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


# ------------------------------------------------------------------ state
def _normal(text: str, project: str) -> str:
    return re.sub(re.escape(project), '<project>', text)


def container_state(container: Any, project: str, unmask: Mapping[str, str]) -> dict:
    """One container as the comparison sees it (``unmask``: value given -> the file's)."""
    attrs = container.attrs
    config, host, state = attrs['Config'], attrs['HostConfig'], attrs['State']
    image_labels = container.client.images.get(attrs['Image']).labels or {}

    def told(value: str) -> str:
        for given, original in unmask.items():
            value = value.replace(given, original)
        return _normal(value, project)

    mounts = []
    for mount in attrs['Mounts']:
        source = mount.get('Name') or mount.get('Source') or ''
        if mount['Type'] == 'volume' and not source.startswith(project):
            source = '<anonymous>'
        mounts.append((mount['Type'], mount['Destination'], mount['RW'], _normal(source,
                                                                                 project)))
    ports = attrs['NetworkSettings']['Ports'] or {}
    return {
        'state': state['Status'],
        'health': (state.get('Health') or {}).get('Status', ''),
        'exit_code': state['ExitCode'] if state['Status'] == 'exited' else None,
        'image': normalised(_normal(config['Image'], project)),  # nginx = nginx:latest
        'command': config.get('Cmd'), 'entrypoint': config.get('Entrypoint'),
        'user': config.get('User') or '', 'working_dir': config.get('WorkingDir') or '',
        'environment': sorted(told(item) for item in config.get('Env') or []),
        'healthcheck': config.get('Healthcheck'),
        'restart': host['RestartPolicy'].get('Name') or 'no',
        'mounts': sorted(mounts),
        'exposed': sorted(ports),
        'published': sorted((port, b['HostIp']) for port, bound in ports.items()
                            for b in bound or []),
        'networks': sorted(_normal(n, project) for n in attrs['NetworkSettings']['Networks']),
        'labels': {k: v for k, v in (config.get('Labels') or {}).items()
                   if not k.startswith(MADE_BY) and image_labels.get(k) != v},
        'shm_size': host.get('ShmSize'), 'stop_signal': config.get('StopSignal'),
        'stop_timeout': config.get('StopTimeout'), 'init': host.get('Init'),
    }


def project_state(client: docker.DockerClient, label: str, service_label: str,
                  project: str, unmask: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole project: {services: {service: [container, ...]}, networks, volumes}."""
    filters = {'label': label}
    services: dict[str, list[dict]] = {}
    for container in client.containers.list(all=True, filters=filters):
        service = container.labels.get(service_label, '?')
        services.setdefault(service, []).append(container_state(container, project,
                                                                unmask or {}))
    return {
        'services': {s: sorted(c, key=repr) for s, c in sorted(services.items())},
        'networks': sorted((_normal(n.name, project), bool(n.attrs.get('Internal')))
                           for n in client.networks.list(filters=filters)),
        'volumes': sorted(_normal(v.name, project)
                          for v in client.volumes.list(filters=filters)),
    }


def published(client: docker.DockerClient, label: str, service_label: str, service: str,
              port: int) -> int:
    """The host port a service's container publishes ``port`` on."""
    (container,) = [c for c in client.containers.list(filters={'label': label})
                    if c.labels.get(service_label) == service]
    (binding,) = container.attrs['NetworkSettings']['Ports'][f'{port}/tcp']
    return int(binding['HostPort'])


def wait_until_exited(client: docker.DockerClient, label: str, service_label: str,
                      services: Iterable[str], seconds: float) -> None:
    """Until every container of these services has exited (bounded)."""
    services = set(services)
    deadline = time.monotonic() + seconds
    while services:
        running = [c.name for c in client.containers.list(filters={'label': label})
                   if c.labels.get(service_label) in services]
        if not running or time.monotonic() > deadline:
            return
        time.sleep(0.5)
