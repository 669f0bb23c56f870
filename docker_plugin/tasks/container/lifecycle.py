"""A container's whole life: create, configure, run (start), stop, delete, and its
state against the blueprint: check_status, check_drift, update, pull.

The seed's names ``docker.docker_plugin.tasks.create / configure / run / stop /
delete`` and the typed node's ``docker.docker_plugin.tasks.container.<op>`` both
lead here (``docker_plugin.kinds``). Each operation
reads its input dicts (falling back to the node's properties of the same
name, which is how the typed ``cloudify.nodes.docker.Container`` feeds them),
validates them against the option tables before touching the engine, calls
resource code, and records what it made in runtime properties at once.

What was adopted is left as found unless ``delete_adopted`` is set; ``retain``
keeps what this deployment made; containers this instance made but never
recorded (a crash right after the engine answered) are found by their labels
and removed too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping

from docker_plugin import kinds, records
from docker_plugin.errors import (
    InvalidInputError,
    NotFoundError,
    PluginError,
    RefusedError,
    StateError,
)
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.lifecycle import REMOVE, STOP
from docker_plugin.resources import completion, images, networks
from docker_plugin.resources.container import containers, controls, logs, reports
from docker_plugin.resources.container import spec as specs
from docker_plugin.resources.engine_api import EngineApi
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.container.spec import (
    NAME_TO_ADOPT,
    declared_state,
    gather,
    shared_image,
    start_options,
)
from docker_plugin.tasks.context import (
    daemon_config,
    drop,
    engine,
    existing_flags,
    learn_container_secrets,
    log_lines,
    parse,
    persist,
    recorded,
    resolve_input,
    resource_labels,
)
from docker_plugin.tasks.ctx import Ctx
from docker_plugin.tasks.image import sources as image_sources
from docker_plugin.tasks.lifecycle import tagged
from docker_plugin.tasks.operation import operation

if TYPE_CHECKING:
    from docker_plugin.resources.container import drift as container_drift
    from docker_plugin.tasks import waits
    from docker_plugin.tasks.container import readiness
else:  # only run and the drift operations use them: imported then (bench/startup.py)
    from docker_plugin.deferred import Later
    container_drift = Later('docker_plugin.resources.container.drift')
    waits = Later('docker_plugin.tasks.waits')
    readiness = Later('docker_plugin.tasks.container.readiness')

DISCARDED = 'discarded_options'  # options the engine discards on this kernel
# A label a container node's containers carry and images never do: a container anyone
# makes from an image this plugin built inherits the image's Cloudify labels, and is not
# this deployment's for that (found by labels, it must not be taken for one, nor removed).
MADE_AS = ('cloudify.made-as', 'container')


def container_labels(ctx: Ctx) -> dict[str, str]:
    """The labels a container node gives its containers."""
    return {**resource_labels(ctx), MADE_AS[0]: MADE_AS[1]}


OBJECTS = objects.Objects(
    kinds.node('container'), inspect=containers.inspect,
    find_by_labels=lambda api, labels: containers.find_by_labels(
        api, {**labels, MADE_AS[0]: MADE_AS[1]}),
    remove=lambda api, info: containers.remove(api, info['Id'], force=True),
    summarise=reports.summarise)
# A start the engine refuses with these, on a container that never ran, is a
# broken engine-side state (after the engine was killed): create it again.
STALE_MARKERS = ('already exists',)
NO_IMAGE = 'no such image'  # a create refused for want of its image (else: an option)
RUNTIME_FAILURES = ('oci runtime create failed', 'runc create failed')


def refusal(ctx: Ctx, kwargs: Mapping[str, Any], exc: PluginError,
            what: str) -> InvalidInputError:
    """What the engine refused to create or start, as the option it is about: one of
    ``container_start`` (which wins where both set it) or ``container_config``."""
    given = {}
    for field in ('container_start', 'container_config'):
        raw = resolve_input(ctx, kwargs, field)
        given[field] = {str(CONTAINER.aliases.get(k, k)): v for k, v in raw.items()} \
            if isinstance(raw, Mapping) else {}
    # The runtime failing without a word about why (runc: "can't get final child's PID
    # from pipe", a negative oom_score_adj without the privilege) failed applying the
    # host configuration: with one host option given, that is the one.
    runtime = any(m in (exc.detail or str(exc)).lower() for m in RUNTIME_FAILURES)
    return objects.refused(exc, what, CONTAINER, given, 'container_config',
                           CONTAINER.names('host') if runtime else (),
                           'the runtime gave no reason, and applies the host options')


@operation
def create(ctx: Ctx, **kwargs: Any) -> None:
    """Import, build or pull the image (``image_import`` / ``image_build`` /
    ``image_pull`` / ``container_config.image``), or take it from a related
    ``cloudify.nodes.docker.Image`` node."""
    shared = shared_image(ctx)
    if shared and not image_sources.has_source(ctx, kwargs):
        node_id, image, image_id = shared
        persist(ctx, image=image, image_id=image_id, image_source=f'node {node_id}',
                image_created=False)
        ctx.logger.info('Using image %s of node %s', image, node_id)
        return
    kind, values = image_sources.request(ctx, kwargs)
    with engine(ctx, kwargs, contact_now=False) as client:  # obtain writes before it makes
        image_sources.obtain(ctx, client.api, kind, values)


@operation
def configure(ctx: Ctx, **kwargs: Any) -> None:
    """Create (or adopt) the container, joined to its networks, mounting its volumes."""
    spec = gather(ctx, kwargs)
    flags = existing_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    if flags['use_external_resource'] and not spec.named:
        raise InvalidInputError('container_config.name', NAME_TO_ADOPT)
    image = spec.image or props.get('image') or props.get('image_id')
    if not image and not flags['use_external_resource']:
        raise InvalidInputError('container_config.image',
                                'no image: create made none and container_config names none')
    with engine(ctx, kwargs) as client:
        api = client.api
        specs.check_engine_support(spec, api.api_version)
        container_id = props.get('container_id')
        if not (container_id and containers.inspect(api, container_id)):
            container_id, adopted, recorded = _create_or_adopt(ctx, kwargs, api, spec, image,
                                                               flags)
            if not recorded:  # one created here is recorded already (and not looked at again)
                persist(ctx, container_id=container_id, **_made_record(spec, adopted))
        else:
            ctx.logger.info('Container %s already exists', container_id)
            persist(ctx, container_name=spec.name)
        for network, endpoint in spec.networks[1:]:
            networks.connect(api, container_id, network, endpoint)
    ctx.logger.info('Container %s ready to start (%s)', spec.name, container_id)


def _made_record(spec: specs.ContainerSpec, adopted: bool) -> dict[str, Any]:
    """What configure records with the container's id (in the same write)."""
    return {objects.ADOPTED: adopted, 'host_options_applied': bool(spec.host),
            'secret_env_names': spec.secret_names, 'container_name': spec.name,
            **tagged(adopted)}


def _create_or_adopt(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi, spec: specs.ContainerSpec,
                     image: str | None, flags: dict[str, bool]) -> tuple[str, bool, bool]:
    """Find the container this instance should use, or create it: (id, adopted?,
    recorded?: one created here is recorded by ``_create`` with what configure records).

    Not told to adopt, it is created at once under the instance's name: the engine
    refuses only when a container has that name already, and only then does the shared
    rule (``tasks.lifecycle``) look: one this instance made but did not record is
    reused; one of the name an earlier run of this node made is claimed, or made again
    when it differs from the spec (its image, options, networks, mounts); what earlier
    runs left under other names is removed (and, in any case, by the uninstall)."""
    if not flags['use_external_resource'] and image:
        created = _create(ctx, kwargs, api, spec, image, name_taken_ok=True)
        if created:
            return created, False, True
    found = objects.node_objects(ctx, api, OBJECTS)
    made = objects.unrecorded(ctx, api, OBJECTS, found)
    if made:
        ctx.logger.info('Reusing container %s, made by this instance before (not recorded)',
                        made[0]['Id'][:12])
        return made[0]['Id'], False, False
    existing = containers.inspect(api, spec.name)
    objects.clear_leftovers(ctx, api, OBJECTS, found, [existing['Id']] if existing else [])
    made_here: list[str] = []

    def make() -> Mapping[str, Any]:
        if not image:
            raise InvalidInputError('container_config.image', 'needed to create the container')
        try:
            made_id = _create(ctx, kwargs, api, spec, image)
        except NotFoundError as exc:  # the image, pulled first, is not in the registry
            raise InvalidInputError('container_config.image', str(exc)) from None
        if made_id is None:  # only when told a taken name is no failure
            raise StateError(f'container {spec.name}: its name is taken')
        made_here.append(made_id)
        return {'Id': made_id}

    def differs(info: Mapping[str, Any]) -> list:
        declared = records.replace(context(ctx, spec), labels=None)  # its run's labels
        return container_drift.differences(api, spec, info, declared)

    info, adopted = objects.ensure(ctx, 'container', spec.name, flags, existing, make,
                                   field='container_config.name', differs=differs,
                                   remove=lambda old: OBJECTS.remove(api, old))
    return info['Id'], adopted, not adopted and info['Id'] in made_here


def _create(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi, spec: specs.ContainerSpec,
            image: str, name_taken_ok: bool = False) -> str | None:
    """Create the container (pulling another image than create's if it is missing): its
    id; None when its name is taken and ``name_taken_ok``."""
    # create already made sure of the image it recorded; check only another one.
    if spec.image and spec.image != ctx.instance.runtime_properties.get('image') and \
            images.inspect_image(api, image) is None:
        repository, tag = images.split_reference(image)
        images.pull_as(api, repository, tag, 'missing', ctx.logger.info)
    ctx.logger.info('Container %s: from %s (options: %s)', spec.name, image,
                    ', '.join(sorted(spec.create) + sorted(spec.host)) or 'none')
    try:
        container_id, warnings = containers.create(api, image, spec, container_labels(ctx))
    except (NotFoundError, RefusedError) as exc:
        if name_taken_ok and isinstance(exc, RefusedError) and \
                containers.NAME_TAKEN in (exc.detail or str(exc)).lower():
            return None
        if isinstance(exc, NotFoundError) and NO_IMAGE in (exc.detail or str(exc)).lower():
            raise InvalidInputError('container_config.image',
                                    f'image {image} is not available: {exc}') from None
        raise refusal(ctx, kwargs, exc, 'the engine refused the container') from None
    # Before the next call can fail, with what configure records with it, and without
    # what an earlier container's engine discarded: one write, and no look after it.
    props = ctx.instance.runtime_properties
    if DISCARDED in props:
        del props[DISCARDED]
    persist(ctx, container_id=container_id, **_made_record(spec, False))
    for warning in warnings:
        ctx.logger.warning('The engine warns about container %s: %s', spec.name, warning)
    record_discarded(ctx, api, spec, container_id, spec.declared(), warnings)
    return container_id


@operation
def run(ctx: Ctx, **kwargs: Any) -> Any:
    """Start the container, log its id, networks, ports and processes, then wait
    until it is ready as ``wait_for`` says (in this worker, or through retries)."""
    start_opts = start_options(ctx, kwargs)
    ready = readiness.wait_spec(ctx, kwargs)
    paused = declared_state(ctx, kwargs).get('paused') is True
    container_id = recorded(ctx, 'container_id', 'container', ': configure must run first')
    props = ctx.instance.runtime_properties
    config = daemon_config(ctx, kwargs)
    if ready and ready.run_async and readiness.pending(ctx, 'start'):
        # A retry of an asynchronous readiness wait: the container is started.
        return _ready_then_pause(ctx, config, container_id, ready, paused)
    drop(ctx, 'completed_exit_code')  # seen again by this start's wait, if it completes
    with engine(ctx, kwargs, config) as client:
        api = client.api
        if props.get('replaced_container_id'):
            containers.remove(api, props['replaced_container_id'], v=True, force=True)
            drop(ctx, 'replaced_container_id')
        if start_opts and not props.get('host_options_applied'):
            container_id = _apply_start_options(ctx, kwargs, api, container_id, start_opts)
        container_id = _start(ctx, kwargs, api, container_id)
        info = containers.inspect(api, container_id)
        if info is None:
            raise StateError(f'container {container_id} disappeared right after start '
                             '(auto_remove with a command that exits?)')
        learn_container_secrets(ctx, info)
        summary = reports.summarise(info)
        persist(ctx, **summary)
        running = summary['state'] == 'running'
        tail = '' if running else logs.last_lines(api, container_id)
    ctx.logger.info('Container %s (%s) is %s', summary['container_name'], container_id,
                    summary['state'])
    log_lines(ctx, 'Network interfaces:', reports.describe_networks(summary))
    log_lines(ctx, 'Ports:', reports.describe_ports(summary))
    if running:  # its main process, as inspect shows it (``top`` action: all of them)
        ctx.logger.info('Main process: %s', reports.main_process(info))
    elif summary['state'] == 'exited':
        level = ctx.logger.info if summary['exit_code'] == 0 else ctx.logger.warning
        level('Container exited with code %s; its last output:\n%s', summary['exit_code'],
              tail or '(none)')
    return _ready_then_pause(ctx, config, container_id, ready, paused)


def _ready_then_pause(ctx: Ctx, config: Any, container_id: str, ready: Any,
                      paused: bool) -> Any:
    """Wait as ``wait_for`` says, then pause a container declared ``paused`` (not while
    an asynchronous wait is still under way: Cloudify retries it first)."""
    waited = readiness.wait_ready(ctx, config, container_id, ready, 'start') if ready else None
    if not paused or waits.unfinished(ctx, 'start'):
        return waited
    with engine(ctx, {}, config) as client:
        info = containers.require(client.api, container_id)
        if not info['State'].get('Running'):
            raise InvalidInputError('container_config.paused', f'only a running container '
                                    f'pauses; container {container_id[:12]} is '
                                    f'{reports.state_line(info)}')
        if not info['State'].get('Paused'):
            controls.pause(client.api, container_id)
        persist(ctx, **reports.summarise(containers.require(client.api, container_id)))
    ctx.logger.info('Container %s paused, as declared', container_id[:12])
    return waited


def _apply_start_options(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi, container_id: str,
                         start_opts: dict) -> str:
    info = containers.require(api, container_id)
    if not containers.never_started(info):
        ctx.logger.warning('container_start options ignored: container %s has already run, '
                           'and the engine applies them only at creation', container_id)
        return container_id
    ctx.logger.info('Applying container_start options (%s) by creating the never-started '
                    'container again with them', ', '.join(sorted(start_opts)))
    try:
        return _recreate(ctx, api, info, start_opts)
    except (NotFoundError, RefusedError) as exc:
        raise refusal(ctx, kwargs, exc, 'the engine refused the container_start options') \
            from None


def _recreate(ctx: Ctx, api: EngineApi, info: dict, host_options: dict) -> str:
    def remember_new(new_id: str) -> None:
        persist(ctx, container_id=new_id, replaced_container_id=info['Id'],
                host_options_applied=True)

    new_id = containers.recreate(api, info, host_options, remember_new)
    drop(ctx, 'replaced_container_id')
    return new_id


def _start(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi, container_id: str) -> str:
    """Start; a never-run container the engine holds broken is created again, once."""
    try:
        containers.start(api, container_id)
        return container_id
    except (NotFoundError, RefusedError) as exc:
        refused = exc
    info = containers.inspect(api, container_id)
    if info is None:
        raise StateError(f'container {container_id} no longer exists; run heal or reinstall '
                         'this node')
    stale = any(m in str(refused).lower() for m in STALE_MARKERS)
    if not (stale and info is not None and containers.never_started(info)):
        raise refusal(ctx, kwargs, refused, 'the engine could not start the container')
    ctx.logger.warning('The engine holds container %s in a broken state (%s); it never ran, '
                       'so it is created again', container_id, refused)
    container_id = _recreate(ctx, api, info, {})
    containers.start(api, container_id)
    return container_id


@operation
def stop(ctx: Ctx, **kwargs: Any) -> None:
    """Stop the container (``container_stop.timeout``); gone or stopped is done."""
    timeout = parse(ctx, kwargs, 'container_stop', STOP)['timeout']
    container_id = ctx.instance.runtime_properties.get('container_id')
    if not container_id:
        ctx.logger.info('No container recorded; nothing to stop')
        return
    if _keep_adopted(ctx, kwargs):
        return
    with engine(ctx, kwargs) as client:
        api = client.api
        ctx.logger.info('Stopping container %s (timeout %s)', container_id,
                        'engine default' if timeout is None else f'{timeout}s')
        # Stopping what is stopped is a no-op for the engine; a paused one stops too.
        answer = containers.stop(api, container_id, timeout)
        # Stopped by this call, it has exited (its exit code is not in the answer: asked
        # for only when it was not running, whatever state that was).
        info = containers.inspect(api, container_id) \
            if answer == containers.NOT_RUNNING else None
        if answer is None or (answer == containers.NOT_RUNNING and info is None):
            ctx.logger.info('Container %s is already gone', container_id)
            return
    if info is None:
        ctx.instance.runtime_properties.pop('exit_code', None)
        persist(ctx, state='exited')
    else:
        persist(ctx, state=info['State'].get('Status', ''),
                exit_code=info['State'].get('ExitCode'))
    ctx.logger.info('Container %s is %s', container_id, ctx.instance.runtime_properties['state'])


def _keep_adopted(ctx: Ctx, kwargs: dict[str, Any]) -> bool:
    """True (and logged) when the container must be left as found: it was adopted
    (without delete_adopted), or retain is set."""
    return objects.keeps(ctx, OBJECTS, existing_flags(ctx, kwargs))


@operation
def delete(ctx: Ctx, **kwargs: Any) -> None:
    """Stop if running, remove the container (and any this instance made but did
    not record, found by its labels; in an uninstall, any an earlier run of this node
    left), and with ``remove_image`` the image's name this node added (``release``)."""
    timeout = parse(ctx, kwargs, 'container_stop', STOP)['timeout']
    options = parse(ctx, kwargs, 'container_remove', REMOVE)
    remove_image = options.pop('remove_image')
    flags = existing_flags(ctx, kwargs)
    props = ctx.instance.runtime_properties
    if (objects.recorded_id(ctx, OBJECTS) and objects.keeps(ctx, OBJECTS, flags)) or \
            flags['retain']:
        objects.forget(ctx, OBJECTS)
        return

    def stop_and_remove(api: EngineApi, found: Mapping[str, Any]) -> bool:
        info = containers.inspect(api, found['Id'])
        if info is None:
            return False
        if info['State'].get('Running') or info['State'].get('Paused'):
            ctx.logger.info('Stopping container %s before removing it', info['Id'])
            containers.stop(api, info['Id'], timeout)
        containers.remove(api, info['Id'], **options)
        return True

    recorded_id = objects.recorded_id(ctx, OBJECTS)
    with objects.engine_to_clean(ctx, kwargs) as client:
        if client is not None:
            api = client.api
            # The recorded container is removed as it is (stopped first only if the engine
            # refuses). Those made but never recorded are looked for by their labels when
            # none is recorded or the recorded one is gone, or a re-creation left the one
            # it replaced; in an uninstall, those earlier runs of this node left, too.
            if recorded_id and not props.get('replaced_container_id') and \
                    containers.remove_stopping(api, recorded_id, timeout, **options):
                ctx.logger.info('Removed container %s', objects.shown(ctx, OBJECTS))
                kept = props.get('image_id')
                objects.forget(ctx, OBJECTS)
                if objects.uninstalling(ctx):
                    objects.remove_ours(ctx, api, records.replace(
                        OBJECTS, remove=stop_and_remove))
            else:
                kept = props.get('image_id')
                objects.remove_ours(ctx, api, records.replace(OBJECTS, remove=stop_and_remove))
                objects.forget(ctx, OBJECTS)
            if remove_image:
                _remove_image(ctx, api)
                # built or imported by this instance, not recorded; in an uninstall, by
                # earlier runs of this node (not the recorded one: _remove_image's)
                objects.remove_ours(ctx, api, records.replace(
                    image_sources.IMAGES, remove=lambda api, info: info['Id'] != kept and
                    image_sources.IMAGES.remove(api, info)))
    objects.forget(ctx, OBJECTS)


def _remove_image(ctx: Ctx, api: EngineApi) -> None:
    """``remove_image``: the name this node added to the image it made (built, imported,
    or pulled when absent) goes; the image goes with it only when no other name and no
    container holds it. An image the node did not make (there before, or another node's)
    stays as it is."""
    props = ctx.instance.runtime_properties
    image_id, image = props.get('image_id'), props.get('image')
    if not image_id:
        return
    if not props.get('image_created'):
        ctx.logger.info('Keeping image %s: this node did not make it (%s)', image or image_id,
                        props.get('image_source') or 'it was there before')
    else:
        names = [image] if image and image != image_id else []
        try:
            released = images.release(api, image_id, names)
        except PluginError as exc:
            raise StateError(f'remove_image: {exc}. Remove what is built on it, or set '
                             'remove_image to false.') from None
        ctx.logger.info('remove_image: %s', released.describe(image or image_id))
    drop(ctx, *image_sources.IMAGE_PROPS)


# Options the engine discarded on this host (it said so when it was given them).


@operation
def check_status(ctx: Ctx, **kwargs: Any) -> None:
    """Healthy when the container exists and runs (and its healthcheck, if any, passes),
    or has completed (``resources.completion``: exited 0, not restarted, no healthcheck),
    or its readiness wait saw it end as expected and it is still exited with that code.

    Cloudify's ``check_status`` and ``heal`` workflows call this; an unhealthy
    instance is reinstalled by ``heal``.
    """
    container_id = recorded(ctx, 'container_id', 'container')
    with engine(ctx, kwargs) as client:
        info = containers.require(client.api, container_id)
    state = info['State']
    health = (state.get('Health') or {}).get('Status')
    done = ctx.instance.runtime_properties.get('completed_exit_code')
    if (done is not None and state.get('Status') == 'exited' and state.get('ExitCode') == done
            ) or completion.completed(state.get('Status', ''), state.get('ExitCode'),
                                      completion.container_restart(info),
                                      completion.container_healthcheck(info)):
        ctx.logger.info('Container %s completed (exited with code %s)', container_id[:12],
                        state.get('ExitCode'))
        return
    paused_as_declared = state.get('Paused') and declared_state(ctx, kwargs).get('paused')
    if not state.get('Running') or (state.get('Paused') and not paused_as_declared) or \
            health == 'unhealthy':
        raise StateError(f'container {container_id[:12]} is {reports.state_line(info)}')
    ctx.logger.info('Container %s is %s', container_id[:12], reports.state_line(info))


def context(ctx: Ctx, spec: specs.ContainerSpec) -> container_drift.Context:
    """What drift compares besides the spec: the image, the plugin's labels (not on an
    adopted container) and what the engine discarded."""
    props = ctx.instance.runtime_properties
    return container_drift.Context(
        image=spec.image or props.get('image'),
        labels=None if objects.adopted(ctx, OBJECTS) else container_labels(ctx),
        discarded=props.get(DISCARDED) or ())


def _differences(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi) -> tuple[Any, list]:
    spec = gather(ctx, kwargs)
    info = containers.require(api, recorded(ctx, 'container_id', 'container'))
    learn_container_secrets(ctx, info)
    return spec, container_drift.differences(api, spec, info, context(ctx, spec))


def record_discarded(ctx: Ctx, api: EngineApi, spec: specs.ContainerSpec, container_id: str,
                     asked: Iterable[str], warnings: list[str]) -> list[str]:
    """After a call the engine answered with warnings: the options it discarded (it
    holds nothing for them), recorded so that drift leaves them out, and said once."""
    if not warnings:
        return []
    info = containers.require(api, container_id)
    found = container_drift.differences(api, spec, info, context(ctx, spec))
    dropped = container_drift.discarded(found, asked, warnings)
    if dropped:
        known = list(ctx.instance.runtime_properties.get(DISCARDED) or [])
        persist(ctx, **{DISCARDED: sorted(set(known) | set(dropped))})
        ctx.logger.warning('The engine discarded %s on this host (%s): not compared for drift '
                           'while declared', ', '.join(dropped), ' '.join(warnings)[:500])
    return dropped


def _planned(ctx: Ctx, kwargs: Mapping[str, Any], api: EngineApi) -> tuple[Any, list]:
    """(the spec, the differences each with what update does with it)."""
    spec, found = _differences(ctx, kwargs, api)
    return spec, objects.plan(ctx, kwargs, OBJECTS, found)


def _plan(ctx: Ctx, kwargs: Mapping[str, Any]) -> list:
    with engine(ctx, kwargs) as client:
        return _planned(ctx, kwargs, client.api)[1]


def _record(ctx: Ctx, found: list) -> list[dict[str, Any]]:
    listed = objects.record_drift(ctx, 'container', found)
    skipped = ctx.instance.runtime_properties.get(DISCARDED)
    if skipped:
        ctx.logger.info('Not compared: %s (discarded by the engine on this host)',
                        ', '.join(skipped))
    return listed


@operation
def check_drift(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Where the container differs from its declared options, image and networks, each
    with what update does with it (also kept in the ``drift`` runtime property); an
    empty list means none."""
    return _record(ctx, _plan(ctx, kwargs))


@operation
@objects.preview(OBJECTS, _plan)
def update(ctx: Ctx, **kwargs: Any) -> list[dict[str, Any]]:
    """Bring the container back to its declared options where the engine can do
    it in place: resources and restart policy (the update call), its name (a
    rename), pause or unpause, its networks, aliases and addresses (reconnecting).
    Anything else needs a new container: then nothing is changed, and the refusal
    names it (as the plans of check_drift say). ``preview: true``: the plan only."""
    with engine(ctx, kwargs) as client:
        api = client.api
        spec, found = _planned(ctx, kwargs, api)
        objects.refuse(found)
        container_id = recorded(ctx, 'container_id', 'container')
        applied = container_drift.apply(api, container_id, spec, found)
        dropped = record_discarded(ctx, api, spec, container_id, applied.updated,
                                   applied.warnings)
        _, remaining = _planned(ctx, kwargs, api)
        refused = sorted({d.option for d in remaining if d.option in applied.updated})
        taken = [name for name in applied.updated if name not in refused and name not in dropped]
        for line in ([f'updated {", ".join(taken)}'] if taken else []) + applied.done:
            ctx.logger.info('Container %s: %s', container_id[:12], line)
        if refused:
            ctx.logger.warning('Container %s: the engine left %s as it was (%s)',
                               container_id[:12], ', '.join(refused),
                               ' '.join(applied.warnings)[:500] or 'it gave no reason')
        persist(ctx, **reports.summarise(containers.require(api, container_id)))
    return _record(ctx, remaining)


@operation
def pull(ctx: Ctx, **kwargs: Any) -> None:
    """``cloudify.interfaces.lifecycle.pull``: pull the container's image again
    (an image that never came from a registry is left as it is) and refresh the runtime
    properties from the engine; a container running an older image than the
    one pulled shows as ``image`` drift."""
    container_id = recorded(ctx, 'container_id', 'container')
    props = ctx.instance.runtime_properties
    pulled = None
    with engine(ctx, kwargs) as client:
        api = client.api
        local = images.inspect_image(api, props['image']) if props.get('image') else None
        from_registry = props.get('image_source') == 'pull' or bool(
            (local or {}).get('RepoDigests'))
        if not from_registry:
            ctx.logger.info('Image %s was not pulled from a registry: nothing to pull',
                            props.get('image'))
        else:
            repository, tag = images.split_reference(props['image'])
            kind, values = image_sources.request(ctx, kwargs) if image_sources.has_source(
                ctx, kwargs) else ('image_pull', {})
            auth = values.get('auth') if kind == 'image_pull' else None
            pulled = images.pull_image(api, repository, tag, ctx.logger.info, auth)
            persist(ctx, image_digest=pulled.digest)
        info = containers.require(api, container_id)
        learn_container_secrets(ctx, info)
        persist(ctx, **reports.summarise(info))
    if pulled is not None and pulled.id != info.get('Image'):
        ctx.logger.warning('Container %s runs %s; %s is now %s: the container needs '
                           'creating again (reinstall or heal) to run it', container_id[:12],
                           info.get('Image'), pulled.reference, pulled.id)
