"""Status, drift, update and pull of ``cloudify.nodes.docker.ComposeProject``.

``check_status``: every expected service has its containers, each running
(healthy when it has a healthcheck; a job another service waits for may have
exited 0). ``check_drift``: each running container's
``com.docker.compose.config-hash`` against the hash compose computes from
the files now (``config --hash``, with the same label override), the number
of containers per service, containers of services the files dropped, and
networks or volumes that are gone; kept in ``drift``. ``update``: ``up``
again, which recreates only what changed; returns what drift remains.
``pull``: pull the images again (as ``pull`` says), refresh the properties.
"""

from __future__ import annotations

from typing import Any

from docker_plugin.errors import StateError
from docker_plugin.resources import compose_state
from docker_plugin.tasks import compose as lifecycle
from docker_plugin.tasks import objects
from docker_plugin.tasks.context import engine, persist, recorded
from docker_plugin.tasks.operation import operation


def _name(ctx: Any) -> str:
    return recorded(ctx, 'project_name', 'compose project')


@operation
def check_status(ctx: Any, **kwargs: Any) -> None:
    """Fails naming every service whose containers are missing, stopped or unhealthy."""
    name = _name(ctx)
    props = ctx.instance.runtime_properties
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, name)
    summary = compose_state.by_service(found)
    persist(ctx, services=summary)
    bad = compose_state.problems(summary, props.get('expected') or {}, props.get('jobs') or [])
    if bad:
        raise StateError(f'compose project {name} is not healthy: {"; ".join(bad)}')
    ctx.logger.info('Compose project %s: every service is running', name)


def _drift(ctx: Any, kwargs: Any, compose: Any, opts: Any) -> list:
    model = compose.model()
    lifecycle.check_selection(model, opts, compose.spec.field)
    hashes = compose.hashes()
    wanted = compose_state.expected(model, opts['services'], opts['scale'])
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, compose.spec.name)
        present = compose_state.objects(client.api, compose.spec.name)
    return compose_state.drift(found, hashes, wanted, model, present)


@operation
def check_drift(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the running project differs from its files (empty: none)."""
    opts = lifecycle.options(ctx, kwargs)
    with lifecycle.project(ctx, kwargs, opts) as compose:
        compose.model()  # the files are read (a bad one refused) before the state is
        _name(ctx)
        found = _drift(ctx, kwargs, compose, opts)
    return objects.record_drift(ctx, 'compose project', found)


@operation
def update(ctx: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """``up`` again: compose recreates only the services whose configuration changed."""
    opts = lifecycle.options(ctx, kwargs)
    with lifecycle.project(ctx, kwargs, opts) as compose:
        compose.model()  # the files are read (a bad one refused) before the state is
        _name(ctx)
        if lifecycle.adopted(ctx, kwargs):
            raise StateError('the compose project was adopted: set modify_external_resource '
                             'to let update change it')
        lifecycle.up(ctx, kwargs, opts, compose)
        remaining = _drift(ctx, kwargs, compose, opts)
    return objects.record_drift(ctx, 'compose project', remaining)


@operation
def pull(ctx: Any, **kwargs: Any) -> None:
    """Pull the services' images again (``pull: never`` skips it); refresh the properties."""
    opts = lifecycle.options(ctx, kwargs)
    if opts['pull'] != 'never':
        with lifecycle.project(ctx, kwargs, opts) as compose:
            model = compose.model()  # read (a bad file refused) before the state is
            _name(ctx)
            wanted = compose_state.expected(model, opts['services'], opts['scale'])
            with engine(ctx, kwargs) as client:
                services = compose_state.to_pull(client.api, model, wanted,
                                                 opts['pull'] == 'always')
            if services:
                with lifecycle.refusals_named(compose):
                    compose.pull('always', services)
            else:
                ctx.logger.info('Every image is here (pull: %s); nothing to pull', opts['pull'])
    lifecycle.report(ctx, lifecycle.refresh(ctx, kwargs, _name(ctx)))
