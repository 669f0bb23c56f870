"""Remove what a test made, found by label (never by name patterns)."""

from __future__ import annotations

import docker


def remove_labelled(client: docker.DockerClient, labels: dict[str, str]) -> list[str]:
    """Remove containers, images, networks and volumes carrying every label."""
    filters = {'label': [f'{k}={v}' for k, v in labels.items()]}
    removed = []
    for container in client.containers.list(all=True, filters=filters):
        container.remove(force=True, v=True)
        removed.append(container.id)
    for network in client.networks.list(filters=filters):
        network.remove()
        removed.append(network.id)
    for volume in client.volumes.list(filters=filters):
        volume.remove(force=True)
        removed.append(volume.id)
    for image in client.images.list(filters=filters):
        try:
            client.images.remove(image.id, force=True)
            removed.append(image.id)
        except docker.errors.NotFound:
            pass
    return removed


def labelled_objects(client: docker.DockerClient, labels: dict[str, str]) -> dict[str, list]:
    """What still carries the labels, by kind (for "nothing left behind" checks)."""
    filters = {'label': [f'{k}={v}' for k, v in labels.items()]}
    return {
        'containers': [c.id for c in client.containers.list(all=True, filters=filters)],
        'images': [i.id for i in client.images.list(filters=filters)],
        'networks': [n.id for n in client.networks.list(filters=filters)],
        'volumes': [v.id for v in client.volumes.list(filters=filters)],
    }
