"""Every option of getting, naming, pushing and removing an image, declared once.

``IMAGE_BUILD`` keys are keywords of the SDK's ``build``; ``IMAGE_PULL`` and
``IMAGE_IMPORT`` of ``pull`` and ``import_image``; ``timeout`` is the
plugin's own deadline for the whole transfer (streams have no read timeout).
``AUTH`` is a registry credential (its password and token are secret).
"""

from __future__ import annotations

from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Option, OptionTable, option_secrets
from docker_plugin.options.checks import (
    FLAG,
    SCALAR_MAP,
    AnyOf,
    Custom,
    Integer,
    ListOf,
    Number,
    Record,
    Text,
    kind,
)
from docker_plugin.options.container_values import LABELS
from docker_plugin.options.host_values import EXTRA_HOSTS
from docker_plugin.options.units import SIZE

_DOMAIN = r'(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*(?::[0-9]{1,5})?/)?'
_PATH = r'[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*'
TAG_PATTERN = r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'
DIGEST_PATTERN = r'sha256:[0-9a-f]{64}'
NAME_MAX = 255  # the engine's limit on a repository name (registry and path, no tag)


class Reference(Text):
    """An image reference (or a repository) in the engine's grammar, its name within the
    engine's length limit: a longer one passes the grammar but the engine refuses it
    ("repository name must not be more than 255 characters")."""

    def convert(self, value: str, path: str) -> str:
        value = super().convert(value, path)
        name = value.split('@', 1)[0]
        last = name.rpartition('/')[2]
        if ':' in last:  # a tag (a port is in the registry part, before a '/')
            name = name[:len(name) - len(last) + last.index(':')]
        if len(name) > NAME_MAX:
            self.fail(path, value, f'the repository name is {len(name)} characters long; '
                                   f'the engine takes at most {NAME_MAX}')
        return value


REPOSITORY = Reference(pattern=_DOMAIN + _PATH, what='a repository like registry:5000/team/app')
REFERENCE = Reference(pattern=f'{_DOMAIN}{_PATH}(?::{TAG_PATTERN})?(?:@{DIGEST_PATTERN})?',
                      what='an image name like registry:5000/app:1 or app@sha256:...')


def _tag(value: Any, path: str) -> str:
    if not isinstance(value, str):
        hint = f" (quote it: '{value}')" if isinstance(value, (int, float)) else ''
        raise InvalidInputError(path, f'expected a tag or a digest, got {kind(value)}{hint}')
    return Text(pattern=f'{TAG_PATTERN}|{DIGEST_PATTERN}', what='a tag like 1.0 or a digest '
                                                                'sha256:...')(value, path)


TAG = Custom((str, int, float), _tag, 'a tag like 1.0 or a digest sha256:...')
TIMEOUT = Number(0, 10 ** 6, above=True, what='seconds')
AUTH = Record({'username': Text(non_empty=True), 'password': Text(non_empty=True),
               'identity_token': Text(non_empty=True), 'registry': Text(non_empty=True),
               'email': Text()},
              aliases={'identitytoken': 'identity_token', 'serveraddress': 'registry',
                       'server_address': 'registry'},
              secret=('password', 'identity_token'),
              what='registry credentials: {username, password} or {identity_token}, '
                   'and registry')

IMAGE_IMPORT = OptionTable('image_import', [
    Option('src', Text(non_empty=True), 'import', required=True,
           doc='an http(s) URL the engine downloads, or a tarball path'),
    Option('repository', REPOSITORY, 'import', doc='name for the image'),
    Option('tag', TAG, 'import', doc='tag (default latest)'),
    Option('changes', ListOf(Text(non_empty=True)), 'import',
           doc='Dockerfile instructions to apply'),
    Option('timeout', TIMEOUT, 'plugin', default=3600, doc='seconds for the whole import'),
])

_LIMITS = Record({'memory': SIZE, 'memswap': AnyOf(Integer(-1, -1), SIZE),
                  'cpushares': Integer(0, 262144),
                  'cpusetcpus': Text(pattern=r'[0-9,-]+', what="CPUs like '0-1'")})
IMAGE_BUILD = OptionTable('image_build', [
    Option('path', Text(non_empty=True), 'build', required=True,
           doc='context directory (relative to the blueprint)'),
    Option('tag', REFERENCE, 'build', doc='name:tag for the image'),
    Option('dockerfile', Text(non_empty=True), 'build', doc='Dockerfile (in the context)'),
    Option('buildargs', SCALAR_MAP, 'build', doc='build arguments'),
    Option('rm', FLAG, 'build', default=True, doc='remove intermediate containers'),
    Option('forcerm', FLAG, 'build', default=True,
           doc='remove them even when a step fails (default true)'),
    Option('nocache', FLAG, 'build', doc="don't use the cache"),
    Option('pull', FLAG, 'build', doc='pull newer base images'),
    Option('labels', LABELS, 'build', doc='image labels'),
    Option('target', Text(non_empty=True), 'build', doc='multi-stage target'),
    Option('network_mode', Text(non_empty=True), 'build', doc='network for RUN steps'),
    Option('platform', Text(pattern=r'[a-z0-9_]+(/[a-z0-9_]+){0,2}', what='os[/arch]'),
           'build', doc='target platform'),
    Option('cache_from', ListOf(REFERENCE), 'build', doc='images to use as cache'),
    Option('extra_hosts', EXTRA_HOSTS, 'build', doc='extra /etc/hosts entries'),
    Option('shmsize', SIZE, 'build', doc='size of /dev/shm for RUN steps'),
    Option('container_limits', _LIMITS, 'build',
           doc='memory, memswap, cpushares, cpusetcpus for RUN steps'),
    Option('squash', FLAG, 'build', doc='squash layers (experimental engines)'),
    Option('isolation', Text(choices=('default', 'process', 'hyperv')), 'build',
           doc='isolation technology'),
    Option('quiet', FLAG, 'build', doc='less output'),
    Option('gzip', FLAG, 'build', doc='send the context gzip-compressed'),
    Option('use_config_proxy', FLAG, 'build', doc="use the client's proxy settings"),
    Option('timeout', TIMEOUT, 'plugin', default=3600, doc='seconds for the whole build'),
])

IMAGE_PULL = OptionTable('image_pull', [
    Option('repository', REFERENCE, 'pull', required=True,
           doc='image to pull (a tag or digest may be part of it)'),
    Option('tag', TAG, 'pull', doc='tag or digest (default latest)'),
    Option('platform', Text(pattern=r'[a-z0-9_]+(/[a-z0-9_]+){0,2}', what='os[/arch]'),
           'pull', doc='platform to pull'),
    Option('policy', Text(choices=('missing', 'always', 'never')), 'plugin', default='missing',
           doc='missing (default), always or never'),
    Option('auth', AUTH, 'plugin', doc='registry credentials'),
    Option('timeout', TIMEOUT, 'plugin', default=3600, doc='seconds for the whole pull'),
], aliases={'auth_config': 'auth'})

PUSH_TARGET = Record({'repository': REFERENCE, 'tag': TAG, 'auth': AUTH, 'timeout': TIMEOUT},
                     required=('repository',), what='{repository, tag, auth, timeout}')

IMAGE_NODE = OptionTable('image', [
    Option('tags', ListOf(REFERENCE), 'plugin', default=[],
           doc='extra names for the image, e.g. [registry:5000/app:1]'),
    Option('push', AnyOf(PUSH_TARGET, ListOf(PUSH_TARGET)), 'plugin', default={},
           doc='where to push: {repository, tag, auth, timeout} or a list of them'),
    Option('keep_locally', FLAG, 'plugin', default=False,
           doc='never remove the image on uninstall'),
    Option('force_remove', FLAG, 'plugin', default=False,
           doc='remove it even while containers use it'),
    Option('in_use', Text(choices=('fail', 'wait')), 'plugin', default='fail',
           doc='fail, or wait (up to in_use_timeout) while containers use it'),
    Option('in_use_timeout', Number(0, 10 ** 6), 'plugin', default=60,
           doc='seconds to wait with in_use: wait'),
])


def push_secrets(value: Any) -> list[str]:
    """The secret strings of a ``push`` property (for the operation wrapper)."""
    return option_secrets(IMAGE_NODE.options['push'], value)
