"""A container's drift from its spec, and bringing it back in place.

Options are compared by the option table: the desired side is what the table
says the engine stores for each declared value (``drift.desired_view``),
never the SDK's rendering of the create call, plus what the plugin and the
engine add to it (the plugin's labels, ports exposed for their bindings, the
image's defaults and the engine's ``label=disable`` where a comparison is
strict). The image is compared by the id its reference points at now and by
its name; networks by membership and by each connection's endpoint options.
``apply`` fixes what the engine can change in place (the update call, a
rename, a reconnection, pause or unpause) and leaves the rest to the caller.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from docker_plugin import records
from docker_plugin.options.base import Compare, Update
from docker_plugin.options.container import CONTAINER
from docker_plugin.resources import drift, images, networks
from docker_plugin.resources.container import containers, controls
from docker_plugin.resources.container import spec as specs
from docker_plugin.resources.engine_api import EngineApi

STRICT_RULES = (Compare.STRICT, Compare.SET)
_IMAGE_ID = re.compile(r'[0-9a-f]{12,64}')
# Namespaces that make the engine add label=disable to the security options.
_HOST_NAMESPACES = ('pid_mode', 'ipc_mode')


@records.record(frozen=True)
class Context:
    """What the comparison needs besides the spec and inspect data.

    Attributes:
        image: the declared image reference (the spec's, else the one create made).
        labels: the labels the plugin puts on what it makes (None: it made none,
            the container was adopted).
        discarded: options the engine discarded on this kernel (recorded when it said
            so): not compared.
    """

    image: str | None = None
    labels: Mapping[str, str] | None = None
    discarded: Iterable[str] = ()


def rules(spec: specs.ContainerSpec) -> dict[str, Compare]:
    """Each declared option's rule, after the blueprint's ``comparisons``."""
    return CONTAINER.rules(spec.plugin.get('comparisons'), spec.declared())


def desired_view(spec: specs.ContainerSpec, labels: Mapping[str, str] | None,
                 found_rules: Mapping[str, Compare],
                 image_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the engine should hold for the spec, shaped like inspect data.

    Args:
        spec: the container's spec.
        labels: the plugin's own labels (expected besides declared labels that compare
            strictly), or None.
        found_rules: each option's rule (``rules``).
        image_config: the ``Config`` of the image whose defaults the engine merged in
            (needed where an environment, labels, ports or volumes compare strictly).
    """
    values = spec.declared()
    if 'labels' in values and labels and found_rules.get('labels') in STRICT_RULES:
        values['labels'] = {**values['labels'], **labels}
    if 'ports' in values and found_rules.get('ports') in STRICT_RULES:
        values['ports'] = specs.exposed(spec)
    view = drift.desired_view(CONTAINER, values)
    for name, rule in found_rules.items():
        option = CONTAINER.options[name]
        if rule not in STRICT_RULES or not option.read:
            continue
        if option.image_default and image_config:
            default = image_config.get(option.image_default)
            if default:
                have = drift.get_path(view, option.read)
                drift.set_path(view, option.read, _with_default(default, have))
        if name == 'security_opt':
            drift.set_path(view, option.read, drift.get_path(view, option.read) +
                           _security_added(values))
    return view


def _with_default(default: Any, declared: Any) -> Any:
    """The declared value over the image's (what the engine merges at create)."""
    if isinstance(default, Mapping) and isinstance(declared, Mapping):
        return {**default, **declared}
    if isinstance(default, list) and isinstance(declared, list):  # NAME=value lists
        names = {str(item).split('=', 1)[0] for item in declared}
        return [item for item in default if str(item).split('=', 1)[0] not in names] + declared
    return declared


def _security_added(values: Mapping[str, Any]) -> list[str]:
    """What the engine adds to the security options: label=disable (no SELinux label)
    for a privileged container or one in the host's PID or IPC namespace."""
    host = values.get('privileged') is True or any(
        values.get(name) == 'host' for name in _HOST_NAMESPACES)
    return ['label=disable'] if host else []


def differences(api: EngineApi, spec: specs.ContainerSpec, info: Mapping[str, Any],
                context: Context = Context()) -> list[drift.Difference]:
    """Every way the container differs from ``spec``, its image and its networks."""
    comparisons = spec.plugin.get('comparisons') or {}
    found_rules = rules(spec)
    discarded = set(context.discarded)
    declared = [name for name in spec.declared() if name not in discarded]
    image_config = None
    if any(found_rules.get(o.name) in STRICT_RULES for o in CONTAINER
           if o.image_default and o.name in declared):
        image_config = _image_config(api, spec, context.image, info)
    view = desired_view(spec, context.labels, found_rules, image_config)
    values = spec.declared()
    found = [records.replace(d, update=Update.RECREATE)
             if d.update is Update.UPDATE_CALL and not controls.applies_in_place(
                 d.option, values[d.option]) else d
             for d in drift.differences(CONTAINER, declared, view, info, rules=found_rules,
                                        written=spec.written)]
    if context.image and comparisons.get('image', comparisons.get('*')) != 'ignore':
        found += image_difference(api, context.image, info,
                                  by_name=spec.plugin.get('image_name_mismatch') != 'ignore')
    # '*' covers the networks when relationships declare some, as community.docker's does.
    membership = comparisons.get('networks', comparisons.get('*') if spec.networks else None)
    if membership != 'ignore' and not spec.create.get('network_disabled'):
        mode = None if spec.networks else spec.host.get('network_mode')
        found += networks.membership_drift(info, spec.networks, mode,
                                           strict=membership == 'strict')
    return found


def _image_config(api: EngineApi, spec: specs.ContainerSpec, image: str | None,
                  info: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The image whose defaults count: the one named now, or the one running."""
    current = spec.plugin.get('image_comparison') == 'current-image'
    reference = info.get('Image') if current or not image else image
    found = images.inspect_image(api, reference) if reference else None
    return (found or {}).get('Config') or None


def image_difference(api: EngineApi, image: str, info: Mapping[str, Any],
                     by_name: bool = True) -> list[drift.Difference]:
    """The image: the id its reference points at now, then (``by_name``) its name."""
    now = containers.image_id(api, image)
    if now != info.get('Image'):
        pointed = now or 'not present on the engine'
        return [drift.Difference('image', 'Image', f'{image} ({pointed})', info.get('Image'),
                                 Update.RECREATE)]
    made_from = (info.get('Config') or {}).get('Image') or ''
    by_id = any(name.startswith('sha256:') or _IMAGE_ID.fullmatch(name)
                for name in (image, made_from))  # made from an id: no name to compare
    if by_name and made_from and not by_id and \
            images.canonical_reference(made_from) != images.canonical_reference(image):
        return [drift.Difference('image', 'Config.Image', image, made_from, Update.RECREATE)]
    return []


@records.record
class Applied:
    """What ``apply`` did, and what the engine said about it.

    Attributes:
        done: renames, pauses and reconnections, as lines for the log.
        updated: the options sent in the update call (whether the engine kept each is
            for the caller to see in the container's inspect data).
        warnings: the engine's warnings about the update call.
    """

    done: list[str] = records.field(default_factory=list)
    updated: list[str] = records.field(default_factory=list)
    warnings: list[str] = records.field(default_factory=list)


def apply(api: EngineApi, container_id: str, spec: specs.ContainerSpec,
          found: list[drift.Difference]) -> Applied:
    """Fix every difference that can be fixed in place; what was done."""
    applied = Applied()
    values = spec.declared()
    in_place = {d.option: values[d.option] for d in found
                if d.update is Update.UPDATE_CALL and d.option in values}
    if in_place:
        applied.warnings += controls.update(api, container_id, controls.update_body(in_place))
        applied.updated = sorted(in_place)
    if any(d.update is Update.RENAME for d in found):
        controls.rename(api, container_id, spec.name)
        applied.done.append(f'renamed to {spec.name}')
    if any(d.update is Update.PAUSE for d in found):
        (controls.pause if spec.paused else controls.unpause)(api, container_id)
        applied.done.append('paused' if spec.paused else 'unpaused')
    wanted = spec.networks or [(spec.host.get('network_mode') or 'bridge', {})]
    for name, endpoint in wanted:
        where = f'NetworkSettings.Networks.{name}'
        if any(d.update is Update.RECONNECT and (d.path == where or d.path.startswith(where + '.'))
               and d.desired != 'not connected' for d in found):
            networks.connect(api, container_id, name, endpoint)
            applied.done.append(f'reconnected to network {name}')
    for difference in found:
        if difference.update is Update.RECONNECT and difference.desired == 'not connected':
            network = difference.option.split('.', 1)[1]
            networks.disconnect(api, container_id, network)
            applied.done.append(f'disconnected from network {network}')
    return applied


def discarded(found_after: Iterable[drift.Difference], asked: Iterable[str],
              warnings: Iterable[str]) -> list[str]:
    """Options the engine discarded: asked for in a call it answered with warnings, and
    holding nothing right after it (the engine keeps the "unset" value of an option this
    kernel cannot apply, such as a block IO weight without an IO scheduler for it)."""
    if not list(warnings):
        return []
    asked = set(asked)
    return sorted(d.option for d in found_after
                  if d.option in asked and d.actual in (None, 0, False, '', [], {}))
