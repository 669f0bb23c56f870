"""One compose service as a Swarm service's ``service_config`` (``--swarm``).

Works on compose's normalised (long) syntax, and maps what ``docker stack
deploy`` honours: the ``deploy`` section (mode, replicas, resources,
placement, restart, update and rollback settings, labels, endpoint mode),
``restart`` when ``deploy.restart_policy`` is not given (as the docker CLI
converts it), ports with their publish mode, volumes, tmpfs and binds as
mounts, and the container options a service's tasks take. What a swarm
service has no option for (``privileged``, ``devices``, ``network_mode``...)
is reported in ``notes``, never dropped silently. Networks, secrets,
configs, the environment and ``depends_on`` become relationships and inputs
(``stack``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from docker_plugin.importer import values

# Keys ``stack`` maps (relationships, inputs, nodes).
ELSEWHERE = {'image', 'build', 'pull_policy', 'environment', 'env_file', 'networks',
             'depends_on', 'secrets', 'configs', 'profiles', 'scale'}
# Compose name -> service_config name, for values that need no change.
SAME = {'command': 'command', 'entrypoint': 'entrypoint', 'user': 'user',
        'working_dir': 'workdir', 'hostname': 'hostname', 'group_add': 'groups',
        'tty': 'tty', 'init': 'init', 'read_only': 'read_only', 'stop_signal': 'stop_signal',
        'stop_grace_period': 'stop_grace_period', 'cap_add': 'cap_add',
        'cap_drop': 'cap_drop', 'sysctls': 'sysctls', 'labels': 'container_labels'}
# ``restart`` as the docker CLI converts it for a service.
RESTART = {'no': 'none', 'always': 'any', 'unless-stopped': 'any', 'on-failure': 'on-failure'}
DEPLOY_SAME = {'mode': 'mode', 'replicas': 'replicas', 'labels': 'labels',
               'endpoint_mode': 'endpoint_mode'}
POLICY_KEYS = ('parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio',
               'order')


def _number(value: Any) -> Any:
    """Compose writes byte sizes as digit strings."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


class StackServiceMapping:
    """``service_config`` for one compose service, with notes; ``volume_name`` gives the
    swarm name (maybe an intrinsic function) of a top-level volume."""

    def __init__(self, name: str, service: Mapping[str, Any],
                 volume_options: Callable[[str], dict[str, Any]]):
        self.name = name
        self.service = service
        self.volume_options = volume_options
        self.config: dict[str, Any] = {}
        self.notes: list[str] = []

    def note(self, key: str, why: str) -> None:
        self.notes.append(f'services.{self.name}.{key}: {why}')

    def map(self) -> StackServiceMapping:
        handlers: dict[str, Callable[[Any], None]] = {
            'ports': self._ports, 'healthcheck': self._healthcheck, 'restart': self._restart,
            'deploy': self._deploy, 'volumes': self._volumes, 'tmpfs': self._tmpfs,
            'ulimits': self._ulimits, 'logging': self._logging,
            'extra_hosts': self._extra_hosts, 'expose': self._expose,
            'container_name': self._container_name}
        for key, value in self.service.items():
            if value is None or key in ELSEWHERE:
                continue
            if key in SAME:
                self.config[SAME[key]] = value
            elif key in handlers:
                handlers[key](value)
            else:
                self.note(key, 'not mapped (a swarm service has no such option)')
        return self

    # ------------------------------------------------------------------ ports
    def _ports(self, value: list[Mapping[str, Any]]) -> None:
        ports = []
        for index, item in enumerate(value):
            port: dict[str, Any] = {'target': item['target'],
                                    'protocol': item.get('protocol') or 'tcp',
                                    'mode': item.get('mode') or 'ingress'}
            published = str(item.get('published') or '')
            if '-' in published:
                self.note(f'ports[{index}].published', f'the range {published} is not '
                                                       'mapped (one port is published)')
                published = published.split('-')[0]
            if published.isdigit():
                port['published'] = int(published)
            for extra in ('host_ip', 'app_protocol'):
                if item.get(extra):
                    self.note(f'ports[{index}].{extra}', 'not mapped (a swarm publishes on '
                                                         'every address)')
            if item.get('name'):
                port['name'] = item['name']
            ports.append(port)
        self.config['ports'] = ports

    def _expose(self, value: Any) -> None:
        self.note('expose', 'not needed: tasks reach each other on their networks')

    def _container_name(self, value: Any) -> None:
        self.note('container_name', 'not mapped (the swarm names the tasks)')

    # ------------------------------------------------------------------ lifecycle
    def _healthcheck(self, value: Mapping[str, Any]) -> None:
        check = values.healthcheck(value, self.note)
        if check:
            self.config['healthcheck'] = check

    def _restart(self, value: str) -> None:
        if (self.service.get('deploy') or {}).get('restart_policy'):
            return  # deploy's wins, as in docker stack deploy
        condition, _, attempts = str(value).partition(':')
        if condition not in RESTART:
            self.note('restart', f'{value!r} is not mapped')
            return
        policy: dict[str, Any] = {'condition': RESTART[condition]}
        if attempts.isdigit():
            policy['max_attempts'] = int(attempts)
        self.config['restart_policy'] = policy

    def _deploy(self, value: Mapping[str, Any]) -> None:
        for key, item in value.items():
            if item in (None, {}, []):
                continue
            if key in DEPLOY_SAME:
                self.config[DEPLOY_SAME[key]] = item
            elif key == 'resources':
                self._resources(item)
            elif key == 'placement':
                self.config['placement'] = {k: v for k, v in item.items() if v}
            elif key == 'restart_policy':
                self.config['restart_policy'] = dict(item)
            elif key in ('update_config', 'rollback_config'):
                self.config[key] = {k: v for k, v in item.items() if k in POLICY_KEYS}
                for extra in set(item) - set(POLICY_KEYS):
                    self.note(f'deploy.{key}.{extra}', 'not mapped')
            else:
                self.note(f'deploy.{key}', 'not mapped')
        if self.config.get('mode') == 'global' and 'replicas' in self.config:
            self.note('deploy.replicas', 'ignored: a global service runs one task per node')
            del self.config['replicas']

    def _resources(self, value: Mapping[str, Any]) -> None:
        out: dict[str, dict[str, Any]] = {}
        allowed = {'limits': ('cpus', 'memory', 'pids'), 'reservations': ('cpus', 'memory')}
        for section, keys in allowed.items():
            for key, item in (value.get(section) or {}).items():
                if key in keys and item not in (None, 0, ''):
                    out.setdefault(section, {})[key] = float(item) if key == 'cpus' \
                        else _number(item)
                elif item not in (None, 0, '', [], {}):
                    self.note(f'deploy.resources.{section}.{key}', 'not mapped')
        if out:
            self.config['resources'] = out

    # ------------------------------------------------------------------ storage
    def _volumes(self, value: list[Mapping[str, Any]]) -> None:
        mounts = self.config.setdefault('mounts', [])
        for index, mount in enumerate(value):
            kind, target = mount.get('type'), mount.get('target')
            entry: dict[str, Any] = {'type': kind, 'target': target}
            if mount.get('read_only'):
                entry['read_only'] = True
            if kind == 'volume':
                if mount.get('source'):
                    entry.update(self.volume_options(mount['source']))
                if (mount.get('volume') or {}).get('nocopy'):
                    entry['no_copy'] = True
            elif kind == 'bind':
                entry['source'] = mount['source']
                propagation = (mount.get('bind') or {}).get('propagation')
                if propagation:
                    entry['propagation'] = propagation
            elif kind == 'tmpfs':
                size = (mount.get('tmpfs') or {}).get('size')
                if size:
                    entry['tmpfs_size'] = _number(size)
            else:
                self.note(f'volumes[{index}]', f'a {kind} mount is not mapped')
                continue
            mounts.append(entry)

    def _tmpfs(self, value: Any) -> None:
        for item in [value] if isinstance(value, str) else value:
            target, _, options = str(item).partition(':')
            if options:
                self.note('tmpfs', f'options of {target} are not mapped')
            self.config.setdefault('mounts', []).append({'type': 'tmpfs', 'target': target})

    # ------------------------------------------------------------------ the rest
    def _ulimits(self, value: Mapping[str, Any]) -> None:
        self.config['ulimits'] = values.ulimits(value)

    def _logging(self, value: Mapping[str, Any]) -> None:
        self.config['log_driver'] = values.logging(value)

    def _extra_hosts(self, value: Any) -> None:
        self.config['hosts'] = values.extra_hosts(value)
