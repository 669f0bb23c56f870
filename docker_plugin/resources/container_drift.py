"""A container's drift from its spec, and bringing it back in place.

Options are compared by the option table (``drift.differences`` over the
engine view the SDK renders); the image by the id its reference points at
now; networks by membership and by each connection's endpoint options.
``apply`` fixes what the engine can change in place (the update call, a
rename, a reconnection) and leaves the rest to the caller.
"""

from __future__ import annotations

from typing import Any, Mapping

from docker_plugin.errors import engine_call
from docker_plugin.options.base import Update
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import containers, controls, drift, networks
from docker_plugin.resources import spec as specs


def differences(api: Any, spec: specs.ContainerSpec, image: str | None,
                info: Mapping[str, Any]) -> list[drift.Difference]:
    """Every way the container differs from ``spec`` (and ``image``, its reference)."""
    with engine_call('render the declared options'):
        view = specs.engine_view(api, spec)
    found = drift.differences(CONTAINER, spec.declared(), view, info)
    if image:
        now = containers.image_id(api, image)
        if now != info.get('Image'):
            found.append(drift.Difference(
                'image', 'Image', f'{image} ({now or "not present on the engine"})',
                info.get('Image'), Update.RECREATE))
    mode = None if spec.networks else spec.host.get('network_mode')
    found += networks.membership_drift(info, spec.networks, mode)
    return found


def apply(api: Any, container_id: str, spec: specs.ContainerSpec,
          found: list[drift.Difference]) -> list[str]:
    """Fix every difference that can be fixed in place; what was done."""
    done = []
    in_place = {d.option: spec.host[d.option] for d in found
                if d.update is Update.UPDATE_CALL and d.option in spec.host}
    if in_place:
        controls.update(api, container_id, in_place)
        done.append(f'updated {", ".join(sorted(in_place))}')
    if any(d.update is Update.RENAME for d in found):
        controls.rename(api, container_id, spec.name)
        done.append(f'renamed to {spec.name}')
    wanted = spec.networks or [(spec.host.get('network_mode') or 'bridge', {})]
    for name, endpoint in wanted:
        where = f'NetworkSettings.Networks.{name}'
        if any(d.update is Update.RECONNECT and (d.path == where or d.path.startswith(where + '.'))
               for d in found):
            networks.connect(api, container_id, name, endpoint)
            done.append(f'reconnected to network {name}')
    return done
