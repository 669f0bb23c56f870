"""Lifecycle of ``cloudify.nodes.docker.ComposeProject``: a whole compose project as one node.

``create`` reads the project with compose itself (``config``: an invalid file
fails here, quoting compose) and decides whether to make it or adopt one
that runs; ``start`` is ``up --detach --wait`` with per-service progress
events; ``stop`` is ``stop``; ``delete`` is ``down`` (volumes kept unless
``remove_volumes``). Runtime properties: ``project_name``, ``expected``
(containers per service), ``jobs``, ``services`` (per service its
containers with ids, state, health, addresses and ports), ``networks``,
``volumes``.

Status, drift, update and pull of ``cloudify.nodes.docker.ComposeProject``.

``check_status``: every expected service has its containers, each running
(healthy when it has a healthcheck; a job another service waits for may have
exited 0). ``check_drift``: the keys of each service that changed in the
files since the last ``up`` (by the ``fingerprints`` kept at each ``up``:
never the values), each running container's
``com.docker.compose.config-hash`` against the hash compose computes from
the files now (``config --hash``, with the same label override) where no key
says why, the number of containers per service, containers of services the
files dropped, and networks or volumes that are gone; each with what
``update`` does with it; kept in ``drift``. ``update``: ``up`` again, which
recreates only what changed; returns what drift remains (``preview: true``:
the plan only). ``pull``: pull the images again (as ``pull`` says), refresh
the properties.
"""


from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any, Iterator, Mapping

from docker_plugin import kinds
from docker_plugin.adoption import Choice, Maker, decide
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
    TransientError,
)
from docker_plugin.options.compose import COMPOSE_PROJECT, default_project_name
from docker_plugin.options.existing import EXISTING
from docker_plugin.resources.compose import readiness as compose_readiness
from docker_plugin.resources.compose import state as compose_state
from docker_plugin.resources.compose.binary import find_binary
from docker_plugin.resources.compose.project import Compose, ProjectSpec, open_project
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks import waits
from docker_plugin.tasks.compose import confine as confine_compose
from docker_plugin.tasks.confine import existing
from docker_plugin.tasks.context import (
    content_key,
    daemon_config,
    engine,
    existing_flags,
    node_labels,
    persist,
    recorded,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.operation import operation

# Inputs every operation may get beside the project's own (see cloudify.nodes.docker.Base).
BASE_INPUTS = ('daemon_client', *EXISTING.names())
DOWN_PASSES = 3  # down again while a straggler container shows up (see take_down)
# A project is known by its name (compose's own labels on its containers); ``down`` by
# that name removes it, so the shared lifecycle decides only whether it stays.
OBJECTS = objects.Objects(
    kinds.node('compose'),
    inspect=lambda api, name: {'Name': name} if compose_state.containers(api, name) else None,
    find_by_labels=lambda api, labels: [], remove=lambda api, info: False,
    summarise=lambda info: {'project_name': info['Name']}, ident=lambda info: info['Name'])


def options(ctx: Ctx, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Every ComposeProject property, an operation input of the same name winning
    (an input the node does not know is refused, with a hint)."""
    raw = {k: v for k, v in kwargs.items() if k not in COMPOSE_PROJECT and v is not None}
    for name in COMPOSE_PROJECT.names():
        value = kwargs.get(name)
        if value is None:
            value = ctx.node.properties.get(name)
        if value is not None:
            raw[name] = value
    return confine_compose.options(ctx, COMPOSE_PROJECT.parse(raw, '', extra=BASE_INPUTS))


def planned(ctx: Ctx, kwargs: Mapping[str, Any]) -> None:
    """What the project's operations check before compose runs, for validation: the
    options, and where the project is written."""
    one_source(options(ctx, kwargs))


def one_source(opts: Mapping[str, Any]) -> None:
    if bool(opts['compose_files']) == bool(opts['definition']):
        raise InvalidInputError('compose_files', 'give exactly one of compose_files and '
                                                 'definition')


def spec(ctx: Ctx, opts: Mapping[str, Any]) -> ProjectSpec:
    """Where the project's files are (resolved among the blueprint's resources), and how
    compose reads them."""
    files, definition = opts['compose_files'], opts['definition']
    one_source(opts)
    directory = opts['project_directory']
    if directory:
        given, directory = directory, existing(ctx, directory, 'project_directory')
        if not os.path.isdir(directory):
            raise InvalidInputError('project_directory', f'{given!r} is not a directory')
    elif files:
        directory = existing(ctx, os.path.dirname(files[0]) or '.', 'compose_files[0]')
    paths = []
    for index, path in enumerate(files):
        near = os.path.join(directory, os.path.basename(path))
        same_dir = not opts['project_directory'] and \
            os.path.dirname(path) == os.path.dirname(files[0])
        paths.append(near if same_dir and os.path.isfile(near) and not os.path.isabs(path)
                     else existing(ctx, path, f'compose_files[{index}]'))
    text = definition if isinstance(definition, str) else \
        json.dumps(definition) if definition else ''
    return confine_compose.project(ctx, ProjectSpec(
        name=opts['project_name'] or default_project_name(str(ctx.deployment.id),
                                                          str(ctx.instance.id)),
        binary=find_binary(opts['compose_binary']), directory=directory or '',
        files=tuple(paths), definition=text,
        env_files=tuple(existing(ctx, p, f'env_files[{i}]') for i, p in
                        enumerate(opts['env_files'])),
        environment={**opts['environment'], **opts['secret_environment']},
        profiles=tuple(opts['profiles']), labels=resource_labels(ctx),
        timeout=float(opts['timeout']), field='definition' if definition else 'compose_files'))


def emitter(ctx: Ctx):
    def emit(level: str, text: str) -> None:
        getattr(ctx.logger, level if level in ('debug', 'warning') else 'info')('%s', text)
    return emit


def project(ctx: Ctx, kwargs: Mapping[str, Any], opts: Mapping[str, Any]):
    """A ``Compose`` for a with-block (``open_project``)."""
    return open_project(spec(ctx, opts), daemon_config(ctx, kwargs), emitter(ctx))


@contextlib.contextmanager
def refusals_named(compose: Compose) -> Iterator[None]:
    """What the engine or a registry refuses for good while compose makes the project
    (up, pull) is about the files (or the definition): the error names them."""
    try:
        yield
    except (RefusedError, NotFoundError) as exc:
        raise InvalidInputError(compose.spec.field, f'the engine refused the project: {exc}'
                                ) from None


def refresh(ctx: Ctx, kwargs: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Read the project back from the engine into runtime properties."""
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, name)
        present = compose_state.objects(client.api, name)
    summary = compose_state.by_service(found)
    persist(ctx, services=summary, **present)
    return summary


def report(ctx: Ctx, summary: Mapping[str, list[Mapping[str, Any]]]) -> None:
    ctx.logger.info('Compose project %s:\n  %s', ctx.instance.runtime_properties.get(
        'project_name'), '\n  '.join(compose_state.describe_project(summary)) or
        '(no containers)')


def adopted(ctx: Ctx, kwargs: Mapping[str, Any]) -> bool:
    """An adopted project is left as found unless modify_external_resource is set."""
    return objects.adopted(ctx, OBJECTS) and \
        not existing_flags(ctx, kwargs)['modify_external_resource']


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Read and check the project; decide whether to make it or adopt a running one."""
    opts = options(ctx, kwargs)
    with project(ctx, kwargs, opts) as compose:
        model = compose.model()
        name = compose.spec.name
    compose_state.check_selection(model, opts, compose.spec.field)
    flags = existing_flags(ctx, kwargs)
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, name)
    makers = {objects.maker(ctx, c.get('Labels')) for c in found}
    # One maker for every container (this instance, or an earlier run of this node, which
    # `up` then brings in line), else the project is held elsewhere or not this deployment's.
    made_by, holder = makers.pop() if len(makers) == 1 else \
        next(((m, h) for m, h in makers if m is Maker.HELD), (Maker.NONE, ''))
    decision = decide(flags['use_external_resource'], flags['create_if_missing'],
                      flags['use_if_exists'], bool(found), made_by, holder)
    if decision.choice is None:
        raise InvalidInputError('project_name', f'compose project {name} {decision.problem}')
    if decision.choice is Choice.CLAIM:
        ctx.logger.info("Claiming compose project %s: an earlier run of this deployment "
                        "made it (%s, which the deployment no longer has); it is this "
                        "deployment's, and start brings it in line", name, holder)
    wanted = compose_state.expected(model, opts['services'], opts['scale'])
    objects.record(ctx, OBJECTS, {'Name': name}, decision.choice is Choice.ADOPT)
    persist(ctx, expected=wanted, jobs=compose_readiness.may_complete(model))
    ctx.logger.info('Compose project %s (%s): services %s; networks %s; volumes %s',
                    name, 'adopted' if decision.choice is Choice.ADOPT else 'to run',
                    ', '.join(f'{s} x{n}' for s, n in wanted.items()) or '-',
                    ', '.join(sorted(model.get('networks') or {})) or '-',
                    ', '.join(sorted(model.get('volumes') or {})) or '-')


def up(ctx: Ctx, kwargs: Mapping[str, Any], opts: Mapping[str, Any],
       compose: Compose, operation: str = 'start') -> dict[str, Any]:
    """``up`` (unless adopted), wait until the project is ready (``wait``), then the
    runtime properties; returns the summary.

    Ready is better than compose's ``--wait``: a container that exited 0 under a
    restart policy that will not start it again, without a healthcheck, has completed
    (``resources.completion``), where compose calls it a failure unless another service
    waits for its completion. Such services are ``jobs`` (check_status counts them).
    So when ``up --wait`` fails and the engine shows only such containers besides ones
    running or still starting, the plugin waits for the rest itself, within the same
    ``wait_timeout``; any other failure is compose's, in its words.
    """
    model = compose.model()
    compose_state.check_selection(model, opts, compose.spec.field)
    wanted = compose_state.expected(model, opts['services'], opts['scale'])
    can_complete = compose_readiness.may_complete(model)
    waiting = bool(opts.get('wait', True)) and not adopted(ctx, kwargs)
    wait_timeout = float(opts.get('wait_timeout', 300))
    # One wait from before ``up`` to ready: a retry after passing trouble resumes it (its
    # deadline holds), and ``up`` again changes nothing that is right already.
    state = waits.resume(ctx, operation) or waits.begin(ctx, operation, wait_timeout) \
        if waiting else None
    try:
        _up(ctx, kwargs, opts, compose, wanted, can_complete, waiting)
    except PluginError as exc:
        if exc.recoverable is not True:
            waits.abandon(ctx, operation)
        raise
    if state is not None:
        try:
            with engine(ctx, kwargs) as client:
                waits.run(ctx, operation, state,
                          compose_readiness.look(client.api, compose.spec.name, wanted,
                                                 can_complete, emitter(ctx)),
                          f'compose project {compose.spec.name} to be ready',
                          waits.Mode(interval=0.5), compose_readiness.late(wait_timeout))
        except PluginError as exc:
            if exc.recoverable is not True:
                report(ctx, refresh(ctx, kwargs, compose.spec.name))  # what it came to
            raise
    persist(ctx, expected=wanted, jobs=can_complete)
    if not adopted(ctx, kwargs):  # what this up made: drift names the keys changed since
        persist(ctx, fingerprints=compose_state.fingerprints(model, content_key(ctx),
                                                             compose.directory))
    summary = refresh(ctx, kwargs, compose.spec.name)
    report(ctx, summary)
    return summary


def _up(ctx: Ctx, kwargs: Mapping[str, Any], opts: Mapping[str, Any], compose: Compose,
        wanted: Mapping[str, int], can_complete: list[str], waiting: bool) -> None:
    """``compose up`` (unless adopted); a failure that only counts a completed container
    as one is not a failure (the wait that follows decides)."""
    if not adopted(ctx, kwargs):
        try:
            with refusals_named(compose):
                progress = compose.up(opts, opts['services'])
        except StateError:
            with engine(ctx, kwargs) as client:
                if not (waiting and compose_readiness.only_completed(
                        client.api, compose.spec.name, wanted, can_complete)):
                    raise
            ctx.logger.info('compose up counts a container that exited 0 as a failure; it '
                            'completed (its restart policy does not start it again): waiting '
                            'for the rest of the project')
        else:
            changed = sorted(progress.recreated | progress.created)
            if changed:
                ctx.logger.info('Compose created or recreated: %s', ', '.join(changed))


@operation
def start(ctx: Ctx, **kwargs: Any) -> None:
    """``up --detach --wait``: make and start what is missing or changed, wait until ready."""
    opts = options(ctx, kwargs)
    with project(ctx, kwargs, opts) as compose:
        up(ctx, kwargs, opts, compose)


def by_name(ctx: Ctx, kwargs: Mapping[str, Any], opts: Mapping[str, Any],
            name: str | None = None):
    """A ``Compose`` that finds the project by its name alone (compose's labels): what
    stop and down need, whatever became of the files (``name``: another project's)."""
    name = name or ctx.instance.runtime_properties.get('project_name') or \
        opts['project_name'] or default_project_name(str(ctx.deployment.id),
                                                     str(ctx.instance.id))
    project_spec = ProjectSpec(name=name, binary=find_binary(opts['compose_binary']),
                               timeout=float(opts['timeout']))
    return open_project(project_spec, daemon_config(ctx, kwargs), emitter(ctx))


@operation
def stop(ctx: Ctx, **kwargs: Any) -> None:
    """Stop the project's containers (left running when retained or adopted). In an
    uninstall, ``delete``'s ``down`` stops and removes them in one pass."""
    opts = options(ctx, kwargs)
    if objects.keeps(ctx, OBJECTS, existing_flags(ctx, kwargs)):
        return
    if not ctx.instance.runtime_properties.get('project_name'):
        return
    if getattr(ctx, 'workflow_id', None) == 'uninstall':
        ctx.logger.info('Stopping with delete: compose down stops and removes in one pass')
        return
    with by_name(ctx, kwargs, opts) as compose:
        compose.stop(opts)


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """``down``, by the project's name: containers, networks and the images it built go;
    volumes only with ``remove_volumes``. Works whatever became of the files."""
    opts = options(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    if not objects.keeps(ctx, OBJECTS, flags):
        with objects.engine_to_clean(ctx, kwargs) as client:
            if client is not None:
                take_down(ctx, kwargs, opts)
                for name in earlier_projects(ctx, client.api):
                    take_down(ctx, kwargs, opts, name)
                    ctx.logger.info('Took down compose project %s, left by an earlier run '
                                    'of this deployment', name)
    objects.forget(ctx, OBJECTS)


def earlier_projects(ctx: Ctx, api: Any) -> list[str]:
    """In an uninstall: the projects (by name) whose containers an earlier run of this
    deployment's node made and no live instance holds (the shared rule,
    ``tasks.lifecycle.earlier_run``)."""
    if not objects.uninstalling(ctx):
        return []
    current = ctx.instance.runtime_properties.get('project_name')
    names = {str((c.get('Labels') or {}).get(compose_state.PROJECT) or '')
             for c in compose_state.labelled(api, node_labels(ctx))
             if objects.earlier_run(ctx, c, unknown=True)}
    return sorted(names - {'', current})


def take_down(ctx: Ctx, kwargs: Mapping[str, Any], opts: Mapping[str, Any],
              name: str | None = None) -> None:
    """``down`` until the engine shows none of the project's containers: one whose creation
    was in flight when a failed ``up`` ended can appear after compose exited, and ``down``
    would miss it (seen under load). A few passes a second apart; then a retry."""
    for attempt in range(DOWN_PASSES):
        time.sleep(1 if attempt else 0)
        with by_name(ctx, kwargs, opts, name) as compose:
            compose.down(opts)
        with engine(ctx, kwargs) as client:
            left = compose_state.containers(client.api, compose.spec.name)
        if not left:
            return
    raise TransientError(f'compose down: {len(left)} containers of project '
                         f'{compose.spec.name} appeared after it; down again')


def _name(ctx: Ctx) -> str:
    return recorded(ctx, 'project_name', 'compose project')


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Fails naming every service whose containers are missing, stopped or unhealthy."""
    name = _name(ctx)
    props = ctx.instance.runtime_properties
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, name)
    summary = compose_state.by_service(found)
    persist(ctx, services=summary)
    bad = compose_readiness.problems(summary, props.get('expected') or {}, props.get('jobs') or [])
    if bad:
        raise StateError(f'compose project {name} is not healthy: {"; ".join(bad)}')
    ctx.logger.info('Compose project %s: every service is running', name)


def _drift(ctx: Ctx, kwargs: Any, compose: Any, opts: Any) -> list:
    """The differences of the running project from its files, each with what update
    (compose up) does with it."""
    model = compose.model()
    compose_state.check_selection(model, opts, compose.spec.field)
    hashes = compose.hashes()
    wanted = compose_state.expected(model, opts['services'], opts['scale'])
    kept = ctx.instance.runtime_properties.get('fingerprints')
    now = compose_state.fingerprints(model, content_key(ctx), compose.directory) \
        if kept is not None else None
    with engine(ctx, kwargs) as client:
        found = compose_state.containers(client.api, compose.spec.name)
        present = compose_state.objects(client.api, compose.spec.name)
    return objects.plan(ctx, kwargs, OBJECTS, compose_state.drift(
        found, hashes, wanted, model, present, kept, now, bool(opts['remove_orphans'])))


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    opts = options(ctx, kwargs)
    with project(ctx, kwargs, opts) as compose:
        compose.model()  # the files are read (a bad one refused) before the state is
        _name(ctx)
        return _drift(ctx, kwargs, compose, opts)


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the running project differs from its files, each with what update does with
    it (empty: none)."""
    return objects.record_drift(ctx, 'compose project', _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """``up`` again: compose recreates only the services whose configuration changed (an
    adopted project only with modify_external_resource). ``preview: true``: the plan
    only."""
    opts = options(ctx, kwargs)
    with project(ctx, kwargs, opts) as compose:
        compose.model()  # the files are read (a bad one refused) before the state is
        _name(ctx)
        reason = objects.adoption_refusal(ctx, kwargs, OBJECTS)
        if reason:
            raise StateError(reason)
        up(ctx, kwargs, opts, compose, 'update')
        remaining = _drift(ctx, kwargs, compose, opts)
    return objects.record_drift(ctx, 'compose project', remaining)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """Pull the services' images again (``pull: never`` skips it); refresh the properties."""
    opts = options(ctx, kwargs)
    if opts['pull'] != 'never':
        with project(ctx, kwargs, opts) as compose:
            model = compose.model()  # read (a bad file refused) before the state is
            _name(ctx)
            wanted = compose_state.expected(model, opts['services'], opts['scale'])
            with engine(ctx, kwargs) as client:
                services = compose_state.to_pull(client.api, model, wanted,
                                                 opts['pull'] == 'always')
            if services:
                with refusals_named(compose):
                    compose.pull('always', services)
            else:
                ctx.logger.info('Every image is here (pull: %s); nothing to pull', opts['pull'])
    report(ctx, refresh(ctx, kwargs, _name(ctx)))
