"""Gather a container's spec from everything in Cloudify that shapes it.

``container_config`` and ``container_start`` (validated by the option table),
the files ``env_file`` names, ``docker_env_var`` from runtime properties, the
instance's name, and its relationships: the networks it is connected to (with
aliases and addresses) and the volumes it mounts. ``resources.spec`` does the
merging.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin import kinds, records
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.container import CONTAINER, START_SECTIONS
from docker_plugin.options.container_values import ENVIRONMENT, env_file_text
from docker_plugin.options.network import ENDPOINT
from docker_plugin.options.volume import MOUNT
from docker_plugin.resources.container import spec as specs
from docker_plugin.tasks.confine import read_file
from docker_plugin.tasks.context import (
    default_name,
    existing_flags,
    instance_name,
    resolve_input,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.image import sources as image_sources
from docker_plugin.tasks.relationships import BASE_KEYS, related

NETWORK_RELATIONSHIP = kinds.relationship('connected_to_network').type_name
VOLUME_RELATIONSHIP = kinds.relationship('mounts_volume').type_name
IMAGE_RELATIONSHIP = kinds.relationship('uses_image').type_name
ENV_FILE_LIMIT = 1024 * 1024  # bytes of one env file
NAME_TO_ADOPT = 'required with use_external_resource: the container to use'


def start_options(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Validated HostConfig options of ``container_start``."""
    return CONTAINER.validate(resolve_input(ctx, kwargs, 'container_start'), 'container_start',
                              sections=START_SECTIONS).get('host', {})


def gather(ctx: Ctx, kwargs: Mapping[str, Any]) -> specs.ContainerSpec:
    """The validated spec; raises InvalidInputError naming the field."""
    raw = resolve_input(ctx, kwargs, 'container_config')
    config = CONTAINER.validate(raw, 'container_config')
    runtime_env = ctx.instance.runtime_properties.get('docker_env_var') or {}
    runtime_env = ENVIRONMENT(runtime_env, 'runtime_properties.docker_env_var')
    name = instance_name(ctx, config.get('create', {}).get('name')) or default_name(ctx)
    spec = specs.build(config, start_options(ctx, kwargs), runtime_env, volume_mounts(ctx),
                       networks(ctx), name, env_files(ctx, config.get('plugin', {})))
    # container_start wins over container_config, as in the spec
    return records.replace(spec, written=CONTAINER.written(
        raw, resolve_input(ctx, kwargs, 'container_start')))


def planned(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """What ``configure`` checks before the engine, for validation: the options, the
    files ``env_file`` names, and a name for an adopted container."""
    config = CONTAINER.validate(resolve_input(ctx, kwargs, 'container_config'),
                                'container_config')
    start_options(ctx, kwargs)
    env_files(ctx, config.get('plugin', {}))
    if existing_flags(ctx, kwargs)['use_external_resource'] and \
            not config.get('create', {}).get('name'):
        raise InvalidInputError('container_config.name', NAME_TO_ADOPT)


def image_source(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """What ``create`` checks of the image before the engine, for validation: one source,
    valid, whose files the blueprint holds; or an Image node it uses."""
    if related(ctx, IMAGE_RELATIONSHIP) and not image_sources.has_source(ctx, kwargs):
        return
    image_sources.planned(ctx, kwargs)


def declared_state(ctx: Ctx, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's own options of ``container_config`` (``paused``, ...), validated."""
    return CONTAINER.validate(resolve_input(ctx, kwargs, 'container_config'),
                              'container_config').get('plugin', {})


def env_files(ctx: Ctx, plugin: Mapping[str, Any]) -> dict[str, str]:
    """The variables of the ``env_file`` files, in order (a later file wins)."""
    found: dict[str, str] = {}
    paths = plugin.get('env_file') or []
    for index, path in enumerate(paths):
        field = 'container_config.env_file' + (f'[{index}]' if len(paths) > 1 else '')
        data = read_file(ctx, path, field, ENV_FILE_LIMIT)
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            raise InvalidInputError(field, f'{path}: not UTF-8 text') from None
        found.update(env_file_text(text, f'{field} ({path})'))
    return found


def networks(ctx: Ctx) -> list[tuple[str, dict[str, Any]]]:
    """(network name, endpoint options) for each connected_to_network relationship."""
    out = []
    for rel, properties in related(ctx, NETWORK_RELATIONSHIP):
        field = f'relationship to {rel.target.node.id}'
        endpoint = ENDPOINT.validate(properties, field, extra=BASE_KEYS).get('endpoint', {})
        name = rel.target.instance.runtime_properties.get('network_name')
        if not name:
            raise InvalidInputError(field, f'the target has no network_name: is it a '
                                           f'{kinds.type_name("network")}?')
        out.append((name, endpoint))
    return out


def volume_mounts(ctx: Ctx) -> list[dict[str, Any]]:
    """Engine mounts for each mounts_volume relationship."""
    mounts = []
    for rel, properties in related(ctx, VOLUME_RELATIONSHIP):
        field = f'relationship to {rel.target.node.id}'
        options = MOUNT.parse(properties, field, extra=BASE_KEYS)
        volume = rel.target.instance.runtime_properties.get('volume_name')
        if not volume:
            raise InvalidInputError(field, f'the target has no volume_name: is it a '
                                           f'{kinds.type_name("volume")}?')
        mounts.append(specs.volume_mount(volume, options))
    return mounts


def shared_image(ctx: Ctx) -> tuple[str, str, str | None] | None:
    """(node id, image, image id) of a related cloudify.nodes.docker.Image, if any."""
    for rel, _ in related(ctx, IMAGE_RELATIONSHIP):
        props = rel.target.instance.runtime_properties
        if not props.get('image'):
            raise InvalidInputError(f'relationship to {rel.target.node.id}',
                                    'the image node has no image: is it a '
                                    f'{kinds.type_name("image")}?')
        return rel.target.node.id, props['image'], props.get('image_id')
    return None
