"""Every node and relationship type the plugin defines, said once.

For each node type: its name and short name (the *kind*), its task package,
the operations of each interface and the function that implements each, its
properties (by hand, or from an option table), the inputs that hold secrets
and how to find the secret strings in them, the runtime properties its
lifecycle records, and how ``update`` treats it. For each relationship type:
its properties and operations. The plugin yaml generator
(``scripts/plugin_yaml.py``), the operation facades of the task packages,
the operation wrapper (which secrets to learn), the importer (type names),
the test tiers and the layout test all read this module; nothing else spells
a type name.

Importing it is cheap: option tables and implementations are named here and
loaded only when asked for (an operation loads only what it runs). Every entry
is made once, here, so entries compare by identity (``eq=False``: no ``__eq__``
and ``__hash__`` generated at every operation's start).
Implementations are ``'<module>:<function>'`` inside the kind's task
package (or a full ``docker_plugin.`` path for code two kinds share), so
plugin.yaml names stable paths, ``docker.docker_plugin.tasks.<kind>.<op>``
(``.actions.<op>`` for a kind's action interface), that do not move when a
module is split: only the implementation string here changes.
``tests/unit/test_kinds.py`` resolves every one.
"""

from __future__ import annotations

import enum
import importlib
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from docker_plugin import records

if TYPE_CHECKING:
    from docker_plugin.options.base import OptionTable

PREFIX_NODE = 'cloudify.nodes.docker.'
PREFIX_RELATIONSHIP = 'cloudify.relationships.docker.'
LIFECYCLE = 'cloudify.interfaces.lifecycle'
VALIDATION = 'cloudify.interfaces.validation'
RELATIONSHIP_LIFECYCLE = 'cloudify.interfaces.relationship_lifecycle'
POLLING = 120  # max_retries of operations that may wait through Cloudify's retries
TAGGED = '__cloudify_tagged_external_resource'  # Cloudify's mark of an adopted resource
CONTENT_KEY = '_content_key'  # an instance's key for fingerprints (docker_plugin.fingerprints)
SecretFinder = Callable[[Any], 'list[str]']


class UpdateStrategy(enum.Enum):
    """What ``update`` does with an object whose declared options drifted."""

    IN_PLACE = 'in place where the engine can, refused naming the rest'
    RECREATE_UNUSED = 'made again when nothing uses it, refused naming its users otherwise'
    REFUSE = 'refused: making it again would lose its data'
    NEW_VERSION = 'a new version, its users moved to it, the old one removed'
    ROLLING = 'a rolling update of its tasks, waited for'
    COMPOSE_UP = 'compose up again: only the services that changed are made again'
    REFRESH = 'the image again from its source; tags moved back'
    NONE = 'nothing to change: it only describes what is there'


@records.record(frozen=True, eq=False)
class Op:
    """One operation of an interface and the function that implements it."""

    name: str               # the operation's name in its interface
    impl: str               # '<module>:<function>' in the kind's package, or a full path
    retries: int | None = None  # max_retries (operations that wait through retries)
    # Its name in the kind's facade when the operation's own is taken there (validation's
    # create beside the lifecycle's).
    function: str = ''

    @property
    def attribute(self) -> str:
        """The name plugin.yaml's path ends in: the operation's, unless ``function``."""
        return self.function or self.name


@records.record(frozen=True, eq=False)
class Interface:
    name: str
    ops: tuple[Op, ...]
    facade: str = ''        # '' : the kind's package; 'actions': its actions module


@records.record(frozen=True, eq=False)
class Prop:
    """A node or relationship property written by hand (not from a table)."""

    name: str
    description: str
    default: Any = records.field(default_factory=dict)
    type: str | None = None


@records.record(frozen=True, eq=False)
class TableProps:
    """Properties that are the options of a table (``names``: only those)."""

    table: str               # 'docker_plugin.options.image:IMAGE_NODE'
    names: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    typed: bool = False      # give each its DSL type


@records.record(frozen=True)
class Field:
    """An input or property checked before install, key by key (so that every mistake
    in it is named, not only the first): ``name`` holds a dictionary of ``table``'s
    options, those of the sections ``sections`` names allowed (all when ''); a ``name``
    of '' says the table's options are inputs or properties of their own."""

    name: str
    table: str                      # 'docker_plugin.options.lifecycle:WAIT_FOR'
    sections: str = ''              # 'docker_plugin.options.container:START_SECTIONS'


@records.record(frozen=True)
class Rule:
    """What an operation of a kind checks beyond the tables (one image source, a wait's
    needs, a name's form, what a blueprint may read): ``function``, a
    ``'<module>:<function>'`` of the kind's task package (or a full path) called as
    ``(ctx, inputs)``, raises ``InvalidInputError``. ``when``: the implementation of the
    operation that checks it (``'lifecycle:create'``): a node that does not run that
    operation (seed style, mapping only some) is not held to it; '': every node."""

    function: str
    when: str = ''


@records.record(frozen=True)
class Validation:
    """How the nodes of a kind are validated before install (``tasks/validation.py``),
    as planned: no runtime property, no engine. ``fields`` by their tables, ``rules``
    by the operations' own checks. The Base kind's apply to every node of the plugin."""

    fields: tuple[Field, ...] = ()
    rules: tuple[Rule, ...] = ()


@records.record(frozen=True, eq=False)
class Keys:
    """The runtime properties a kind's lifecycle records (one vocabulary for all).

    ``id`` and ``name`` are ``<kind>_id`` and ``<kind>_name`` (a volume, a compose
    project and an engine are known by their name alone); ``adopted`` is the same key
    for every kind (``legacy_adopted``: what
    0.2.0 recorded, still read so an upgraded plugin never removes what it
    adopted). ``summary`` lists what the kind records besides.
    """

    id: str                          # what the engine knows the object by
    name: str                        # what a person knows it by (may be the same key)
    summary: tuple[str, ...] = ()
    legacy_adopted: str | None = None
    adopted: str = 'adopted'

    def all(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.id, self.name, self.adopted, 'drift', TAGGED,
                                    *self.summary,
                                    *([self.legacy_adopted] if self.legacy_adopted else []))))


@records.record(frozen=True, eq=False)
class NodeKind:
    kind: str                               # short name: the task package, messages
    type_name: str                          # cloudify.nodes.docker.<Name>
    interfaces: tuple[Interface, ...]
    properties: tuple[Prop | TableProps, ...] = ()
    secrets: Mapping[str, str] = records.field(default_factory=dict)  # input: finder
    keys: Keys | None = None
    update: UpdateStrategy = UpdateStrategy.NONE
    derived_from: str = f'{PREFIX_NODE}Base'
    # Actions also offered as workflows, docker_<workflow_prefix><action>, with an
    # example of their inputs.
    workflows: Mapping[str, str] = records.field(default_factory=dict)
    workflow_prefix: str = ''
    validation: Validation = Validation()

    @property
    def package(self) -> str:
        return f'docker_plugin.tasks.{self.kind}'

    def operations(self) -> Iterator[tuple[Interface, Op]]:
        for interface in self.interfaces:
            for op in interface.ops:
                yield interface, op

    def path(self, interface: Interface, op: Op) -> str:
        """The dotted path plugin.yaml names (without the plugin's name)."""
        module = f'{self.package}.{interface.facade}' if interface.facade else self.package
        return f'{module}.{op.attribute}'


@records.record(frozen=True, eq=False)
class RelationshipKind:
    type_name: str
    derived_from: str
    kind: str                                # the task package of its operations
    properties: tuple[Prop | TableProps, ...] = ()
    source_ops: tuple[Op, ...] = ()          # relationship_lifecycle and drift, source side
    target: str = ''                         # the kind it leads to ('': ``kind``)

    @property
    def package(self) -> str:
        return f'docker_plugin.tasks.{self.kind}'

    @property
    def target_kind(self) -> str:
        """The kind of node the relationship must lead to (validated before install)."""
        return self.target or self.kind

    @staticmethod
    def function(op: Op) -> str:
        """A relationship operation's name in its kind's package (its operation names,
        unlink or update, would clash with the node's own)."""
        return op.impl.rpartition(':')[2].rpartition('.')[2]

    def path(self, op: Op) -> str:
        return f'{self.package}.{self.function(op)}'


# Validation's create, the same for every kind: the whole deployment, before anything is
# made (its facade name is validate: the lifecycle's create has the name create there).
VALIDATE = Op('create', 'docker_plugin.tasks.validation:validate', function='validate')
# The seed's names, docker.docker_plugin.tasks.<name>: the container's lifecycle, and the
# validation any node may map to its cloudify.interfaces.validation.create.
SEED = ('configure', 'create', 'delete', 'run', 'stop')
SEED_VALIDATE = 'validate'


def _lifecycle(*ops: Op, status: str = 'lifecycle:check_status') -> tuple[Interface, ...]:
    return (Interface(LIFECYCLE, ops), Interface(VALIDATION, (Op('check_status', status),
                                                              VALIDATE)))


def _ops(module: str, *names: str, retries: Mapping[str, int] | None = None) -> tuple[Op, ...]:
    retries = retries or {}
    return tuple(Op(name, f'{module}:{name}', retries.get(name)) for name in names)


DAEMON = 'docker_plugin.options.daemon:DAEMON_CLIENT.secret_values'
CONTAINER_SECRETS = 'docker_plugin.options.container:CONTAINER.secret_values'
IMAGE_SOURCE_FIELDS = tuple(Field(name, f'docker_plugin.options.image:{name.upper()}')
                            for name in ('image_import', 'image_build', 'image_pull'))
IMAGE_SOURCE_PROPS = (
    Prop('image_import', 'src (http(s) URL or tarball path), repository, tag, changes, '
                         'timeout'),
    Prop('image_build', 'path (context directory), tag, dockerfile, buildargs, target, labels, '
                        'nocache, pull, rm, forcerm, network_mode, ..., timeout'),
    Prop('image_pull', 'repository, tag or digest, platform, policy (missing|always|never), '
                       'auth, timeout'),
)
NAME = Prop('name', 'Docker name; default <deployment>-<instance>; per instance when there '
                    'are several', '')
OBJECT_NAME = ("the {kind}'s name; the object is <name>-<fingerprint of the value> (with "
               'use_external_resource: this exact name); default <deployment>-<instance>')
CONTAINER_TABLE = 'docker_plugin.options.container:CONTAINER'
OBJECT_NAME_CHECK = 'docker_plugin.tasks.context:object_name'
CONTAINER_ACTIONS = ('inspect', 'list_containers', 'list_images', 'top', 'logs', 'stats',
                     'pause', 'unpause', 'kill', 'rename', 'stop', 'start', 'restart',
                     'update')
CONTAINER_COMMANDS = ('exec', 'wait', 'copy_to', 'copy_from')
COMMAND_FUNCTIONS = {'exec': 'exec_command'}  # exec is a Python builtin's name

NODES: tuple[NodeKind, ...] = (
    NodeKind(
        'base', f'{PREFIX_NODE}Base', (), derived_from='cloudify.nodes.Root',
        properties=(Prop('daemon_client', 'the Docker engine to use (empty: the local one)',
                         type='cloudify.datatypes.docker.DaemonClient'),
                    TableProps('docker_plugin.options.existing:EXISTING')),
        secrets={'daemon_client': DAEMON},
        validation=Validation(
            (Field('', 'docker_plugin.options.existing:EXISTING'),
             Field('daemon_client', 'docker_plugin.options.daemon:DAEMON_CLIENT')),
            (Rule('docker_plugin.tasks.context:daemon_config'),))),
    NodeKind(
        'container', f'{PREFIX_NODE}Container',
        (*_lifecycle(*_ops('lifecycle', 'create', 'configure'),
                     Op('start', 'lifecycle:run', POLLING),
                     *_ops('lifecycle', 'stop', 'delete', 'check_drift', 'update', 'pull')),
         Interface('docker.interfaces.container', (
             *(Op(name, f'controls:{name}', POLLING if name in ('start', 'restart') else None)
               for name in CONTAINER_ACTIONS),
             *(Op(name, f'commands:{COMMAND_FUNCTIONS.get(name, name)}',
                  POLLING if name == 'wait' else None) for name in CONTAINER_COMMANDS)),
                   facade='actions')),
        properties=(
            *IMAGE_SOURCE_PROPS,
            Prop('container_config', 'every option of the create call and of its HostConfig, '
                 'env_file, paused, and how drift compares them: comparisons, '
                 'image_comparison, image_name_mismatch (see README.rst)'),
            Prop('container_start', 'HostConfig options (port_bindings, binds, network_mode, '
                                    '...)'),
            Prop('container_stop', 'timeout: seconds before the engine kills it'),
            Prop('container_remove', 'v, link, force, remove_image'),
            Prop('wait_for', 'readiness wait after start: condition (running, healthy, ready, log, '
                             'port, exited), pattern, port, exit_code, timeout, interval, '
                             'async')),
        secrets={'container_config': CONTAINER_SECRETS, 'container_start': CONTAINER_SECRETS,
                 'image_pull': 'docker_plugin.options.image:IMAGE_PULL.secret_values'},
        keys=Keys('container_id', 'container_name', (
            'state', 'exit_code', 'ip', 'networks', 'ports', 'host_ports', 'host_options_applied',
            'replaced_container_id', 'secret_env_names', 'discarded_options',
            'completed_exit_code'),
            legacy_adopted='container_adopted'),
        update=UpdateStrategy.IN_PLACE,
        workflows={action: '{timeout: 30}' for action in (
            'inspect', 'logs', 'top', 'stats', 'pause', 'unpause', 'restart', 'exec')},
        validation=Validation(
            (Field('container_config', CONTAINER_TABLE),
             Field('container_start', CONTAINER_TABLE,
                   'docker_plugin.options.container:START_SECTIONS'),
             Field('container_stop', 'docker_plugin.options.lifecycle:STOP'),
             Field('container_remove', 'docker_plugin.options.lifecycle:REMOVE'),
             Field('wait_for', 'docker_plugin.options.lifecycle:WAIT_FOR'),
             *IMAGE_SOURCE_FIELDS),
            (Rule('spec:image_source', 'lifecycle:create'),
             Rule('spec:planned', 'lifecycle:configure'),
             Rule('readiness:wait_spec', 'lifecycle:run')))),
    NodeKind(
        'image', f'{PREFIX_NODE}Image',
        _lifecycle(*_ops('lifecycle', 'create'), Op('configure', 'lifecycle:push'),
                   *_ops('lifecycle', 'delete', 'check_drift', 'update', 'pull')),
        properties=(*IMAGE_SOURCE_PROPS, TableProps('docker_plugin.options.image:IMAGE_NODE')),
        secrets={'image_pull': 'docker_plugin.options.image:IMAGE_PULL.secret_values',
                 'push': 'docker_plugin.options.image:push_secrets'},
        keys=Keys('image_id', 'image', ('image_source', 'image_created', 'image_digest',
                                        'image_tags', 'pushed')),
        update=UpdateStrategy.REFRESH,
        validation=Validation(
            (*IMAGE_SOURCE_FIELDS, Field('', 'docker_plugin.options.image:IMAGE_NODE')),
            (Rule('lifecycle:planned'),))),
    NodeKind(
        'network', f'{PREFIX_NODE}Network',
        _lifecycle(*_ops('lifecycle', 'create', 'delete', 'check_drift', 'update', 'pull')),
        properties=(NAME, Prop('network_config', 'driver, options, ipam {driver, config: '
                               '[{subnet, gateway, ip_range, aux_addresses}], options}, '
                               'internal, attachable, enable_ipv6, labels, scope, ingress')),
        keys=Keys('network_id', 'network_name', ('driver', 'subnets', 'gateways', 'internal'),
                  legacy_adopted='network_adopted'),
        update=UpdateStrategy.RECREATE_UNUSED,
        validation=Validation((Field('network_config', 'docker_plugin.options.network:NETWORK'),),
                              (Rule('lifecycle:options'), Rule(OBJECT_NAME_CHECK)))),
    NodeKind(
        'volume', f'{PREFIX_NODE}Volume',
        _lifecycle(*_ops('lifecycle', 'create', 'delete', 'check_drift', 'update', 'pull')),
        properties=(NAME, Prop('volume_config', 'driver, driver_opts, labels')),
        keys=Keys('volume_name', 'volume_name', ('driver', 'mountpoint'),
                  legacy_adopted='volume_adopted'),
        update=UpdateStrategy.REFUSE,
        validation=Validation((Field('volume_config', 'docker_plugin.options.volume:VOLUME'),),
                              (Rule('lifecycle:options'), Rule(OBJECT_NAME_CHECK)))),
    NodeKind(
        'compose', f'{PREFIX_NODE}ComposeProject',
        (*_lifecycle(*_ops('lifecycle', 'create', 'start', 'stop', 'delete', 'check_drift',
                           'update', 'pull')),
         Interface('docker.interfaces.compose', (
             *_ops('commands', 'logs', 'ps'), Op('exec', 'commands:exec_command')),
             facade='actions')),
        properties=(TableProps('docker_plugin.options.compose:COMPOSE_PROJECT', typed=True),),
        secrets={'secret_environment': 'docker_plugin.options.compose:secret_values'},
        keys=Keys('project_name', 'project_name', ('expected', 'jobs', 'services', 'networks',
                                                 'volumes', 'fingerprints', CONTENT_KEY),
                  legacy_adopted='compose_adopted'),
        update=UpdateStrategy.COMPOSE_UP,
        workflows={'logs': '{tail: 50}', 'ps': '{}', 'exec': '{service: web, command: [ls]}'},
        workflow_prefix='compose_',
        validation=Validation((Field('', 'docker_plugin.options.compose:COMPOSE_PROJECT'),),
                              (Rule('lifecycle:planned'),))),
    NodeKind(
        'swarm', f'{PREFIX_NODE}Swarm',
        (*_lifecycle(*_ops('lifecycle', 'create', 'start', 'delete', 'check_drift', 'update',
                           'pull')),
         Interface('docker.interfaces.swarm', _ops('keys', 'rotate_join_tokens', 'unlock_key'),
                   facade='actions')),
        properties=(
            Prop('swarm_config', 'advertise_addr, listen_addr, data_path_addr, '
                 'data_path_port, default_addr_pool, subnet_size, force_new_cluster, and the '
                 'swarm settings task_history_retention_limit, dispatcher_heartbeat_period, '
                 'snapshot_interval, node_cert_expiry, autolock_managers, labels'),
            Prop('managers', 'engines that join: [{daemon_client, advertise_addr, listen_addr, '
                             'data_path_addr, availability, node_labels}]', []),
            Prop('workers', 'engines that join: [{daemon_client, advertise_addr, listen_addr, '
                            'data_path_addr, availability, node_labels}]', [])),
        secrets={'managers': 'docker_plugin.options.swarm:member_secrets',
                 'workers': 'docker_plugin.options.swarm:member_secrets'},
        keys=Keys('swarm_id', 'swarm_id', ('swarm_node_id', 'manager_addresses', 'joined', 'nodes',
                                           'join_tokens_rotated', 'unlock_key_stored'),
                  legacy_adopted='swarm_adopted'),
        update=UpdateStrategy.IN_PLACE,
        workflows={'rotate_join_tokens': '{role: both}',
                   'unlock_key': '{secret: swarm_unlock_key}'},
        workflow_prefix='swarm_',
        validation=Validation((Field('swarm_config', 'docker_plugin.options.swarm:SWARM'),),
                              (Rule('lifecycle:options'), Rule('lifecycle:joining')))),
    NodeKind(
        # One node of a swarm the blueprint formed or adopted: always adopted (never made,
        # never removed); found by `node` or by the Engine node it is (node_of_engine), in
        # the swarm of its manager (in_swarm, or daemon_client).
        'swarm_node', f'{PREFIX_NODE}SwarmNode',
        _lifecycle(Op('create', 'lifecycle:create', POLLING),
                   *_ops('lifecycle', 'delete', 'check_drift'),
                   Op('update', 'lifecycle:update', POLLING),
                   *_ops('lifecycle', 'pull')),
        properties=(
            TableProps('docker_plugin.options.swarm:SWARM_NODE', typed=True),
            Prop('drain_wait', "how a drain waits for the node's tasks to move: wait "
                 '(default true), timeout (seconds, default 300), interval, async')),
        keys=Keys('swarm_node_id', 'hostname', ('role', 'availability', 'labels', 'state',
                                                'address', 'leader', 'engine_version',
                                                'found', 'applied', 'drained')),
        update=UpdateStrategy.IN_PLACE,
        validation=Validation(
            (Field('', 'docker_plugin.options.swarm:SWARM_NODE'),
             Field('drain_wait', 'docker_plugin.options.swarm:NODE_DRAIN')),
            tuple(Rule(f'lifecycle:{name}') for name in ('declared_spec',
                                                                    'drain_settings',
                                                                    'flags')))),
    NodeKind(
        'engine', f'{PREFIX_NODE}Engine',
        (Interface(LIFECYCLE, (Op('create', 'lifecycle:describe'), Op('delete', 'lifecycle:forget'),
                               Op('pull', 'lifecycle:describe'))),
         Interface(VALIDATION, (Op('check_status', 'lifecycle:describe'), VALIDATE))),
        keys=Keys('engine_name', 'engine_name', ('engine_version', 'api_version',
                                               'swarm_state'))),
    NodeKind(
        'service', f'{PREFIX_NODE}Service',
        (*_lifecycle(*_ops('lifecycle', 'create'), Op('start', 'lifecycle:start', POLLING),
                     *_ops('lifecycle', 'delete', 'check_drift'),
                     Op('update', 'lifecycle:update', POLLING), *_ops('lifecycle', 'pull')),
         Interface('docker.interfaces.service', (
             Op('scale', 'commands:scale', POLLING), Op('rollback', 'commands:rollback', POLLING),
             Op('logs', 'commands:logs'), Op('ps', 'commands:ps')), facade='actions')),
        properties=(
            Prop('name', 'service name; default <deployment>-<instance>; per instance when '
                         'there are several', ''),
            Prop('service_config', 'image (required), command, env, secret_env, mounts, '
                 'networks, ports, mode, replicas, resources, placement, restart_policy, '
                 'healthcheck, update_config, rollback_config, ... (see README.rst)'),
            Prop('converge', 'wait, timeout, interval, async, log_lines')),
        secrets={'service_config': 'docker_plugin.options.service:SERVICE.secret_values'},
        keys=Keys('service_id', 'service_name', ('image', 'service_version', 'ports',
                                                 'virtual_ips', 'converged', 'replicas',
                                                 'status'),
                  legacy_adopted='service_adopted'),
        update=UpdateStrategy.ROLLING,
        workflows={'scale': '{replicas: 5}', 'rollback': '{}', 'logs': '{tail: 50}', 'ps': '{}'},
        workflow_prefix='service_',
        validation=Validation(
            (Field('service_config', 'docker_plugin.options.service:SERVICE'),
             Field('converge', 'docker_plugin.options.service:SERVICE_WAIT')),
            (Rule('spec:checked'), Rule('spec:service_name')))),
    *(NodeKind(
        kind, f'{PREFIX_NODE}{kind.capitalize()}',
        _lifecycle(*(Op(name, f'docker_plugin.tasks.swarm_objects:{kind}_{name}')
                     for name in ('create', 'delete', 'check_drift', 'update', 'pull')),
                   status=f'docker_plugin.tasks.swarm_objects:{kind}_check_status'),
        properties=(Prop('name', OBJECT_NAME.format(kind=kind), ''),
                    TableProps(f'docker_plugin.options.swarm:{kind.upper()}')),
        secrets={'data': 'docker_plugin.options.swarm:data_secrets'} if kind == 'secret'
        else {},
        keys=Keys(f'{kind}_id', f'{kind}_name', ('base_name', 'labels', CONTENT_KEY)),
        update=UpdateStrategy.NEW_VERSION,
        validation=Validation((Field('', f'docker_plugin.options.swarm:{kind.upper()}'),),
                              (Rule(f'docker_plugin.tasks.swarm_objects:{kind}_planned'),)))
      for kind in ('secret', 'config')),
)

RELATIONSHIPS: tuple[RelationshipKind, ...] = (
    RelationshipKind(
        f'{PREFIX_RELATIONSHIP}connected_to_network', 'cloudify.relationships.connected_to',
        'network', (TableProps('docker_plugin.options.network:ENDPOINT'),),
        (Op('unlink', 'lifecycle:disconnect'), Op('check_drift', 'lifecycle:check_connection'),
         Op('update', 'lifecycle:reconnect'))),
    RelationshipKind(f'{PREFIX_RELATIONSHIP}uses_image', 'cloudify.relationships.depends_on',
                     'image'),
    RelationshipKind(
        f'{PREFIX_RELATIONSHIP}mounts_volume', 'cloudify.relationships.depends_on', 'volume',
        (TableProps('docker_plugin.options.volume:MOUNT'),)),
    RelationshipKind(f'{PREFIX_RELATIONSHIP}in_swarm', 'cloudify.relationships.depends_on',
                     'swarm'),
    # A SwarmNode and the Engine node whose engine it is (instead of its `node` property).
    RelationshipKind(f'{PREFIX_RELATIONSHIP}node_of_engine', 'cloudify.relationships.depends_on',
                     'engine'),
    RelationshipKind(
        f'{PREFIX_RELATIONSHIP}member_of_swarm', 'cloudify.relationships.connected_to', 'swarm',
        (TableProps('docker_plugin.options.swarm:MEMBER', exclude=('daemon_client',)),),
        (Op('establish', 'members:join'), Op('unlink', 'members:leave'))),
    *(RelationshipKind(f'{PREFIX_RELATIONSHIP}uses_{kind}', 'cloudify.relationships.depends_on',
                       kind, (TableProps('docker_plugin.options.service:FILE_USE'),))
      for kind in ('secret', 'config')),
)


@records.record(frozen=True)
class DeploymentWorkflow:
    """A workflow of the whole deployment: ``operation`` on every node instance that has
    it (Cloudify's execute_operation), offered as ``name``."""

    name: str
    operation: str
    description: str


WORKFLOWS: tuple[DeploymentWorkflow, ...] = (
    DeploymentWorkflow(
        'docker_validate', f'{VALIDATION}.create',
        'validate every node of the deployment as install does before anything is made, '
        'and make nothing: every mistake at once, each naming its node and field. Each '
        'instance validates the whole deployment (once per execution in a local run); on '
        'a manager, node_ids: [one node] validates it once'),
)

# ------------------------------------------------------------------ look-ups
def node(kind: str) -> NodeKind:
    """The node kind ``kind`` (its short name)."""
    for entry in NODES:
        if entry.kind == kind:
            return entry
    raise KeyError(kind)


def relationship(short: str) -> RelationshipKind:
    """The relationship type ``cloudify.relationships.docker.<short>``."""
    name = short if short.startswith(PREFIX_RELATIONSHIP) else PREFIX_RELATIONSHIP + short
    for entry in RELATIONSHIPS:
        if entry.type_name == name:
            return entry
    raise KeyError(short)


def type_name(kind: str) -> str:
    return node(kind).type_name


def of_types(hierarchy: Any) -> NodeKind | None:
    """The node kind of a node whose type hierarchy is ``hierarchy`` (most derived
    first or last), or None for a node that is not one of ours."""
    names = [hierarchy] if isinstance(hierarchy, str) else list(hierarchy or [])
    by_type = {entry.type_name: entry for entry in NODES if entry.kind != 'base'}
    for name in reversed(names):
        if name in by_type:
            return by_type[name]
    for name in names:
        if name in by_type:
            return by_type[name]
    return None


def of_module(module: str) -> NodeKind | None:
    """The kind whose task package holds ``module`` (``docker_plugin.tasks.<kind>...``);
    the seed's package and the code kinds share belong to none."""
    parts = module.split('.')
    if len(parts) > 2 and parts[:2] == ['docker_plugin', 'tasks']:
        try:
            return node(parts[2])
        except KeyError:
            return None
    return None


def relationship_of(hierarchy: Any) -> RelationshipKind | None:
    """The relationship type of the plugin a relationship is (most derived first)."""
    names = list(hierarchy or [])
    by_type = {entry.type_name: entry for entry in RELATIONSHIPS}
    return next((by_type[name] for name in reversed(names) if name in by_type), None)


def implementation(path: str) -> tuple[NodeKind, str] | None:
    """(kind, implementation) of the operation a blueprint maps to ``path``: the
    registry's ``Op.impl`` (``'lifecycle:create'``), for the seed's names too."""
    entry = of_operation(path)
    if entry is None:
        return None
    module, _, name = path.rpartition('.')
    if module == 'docker_plugin.tasks':
        return entry, f'lifecycle:{name}'  # the seed's names are the container's lifecycle
    for interface, op in entry.operations():
        if entry.path(interface, op) == path:
            return entry, op.impl
    return None


def of_operation(path: str) -> NodeKind | None:
    """The kind whose operation a blueprint maps to ``path`` (``docker_plugin.tasks.<kind>
    [.actions].<op>``; the seed's ``docker_plugin.tasks.<op>``: the container's), or None
    (not one of the plugin's kinds: the seed's validate, another plugin's)."""
    module, _, name = path.rpartition('.')
    if module == 'docker_plugin.tasks':
        return node('container') if name in SEED else None
    return of_module(module)


def resolve(reference: str, package: str = '') -> Any:
    """``'module:attr.attr'`` (relative to ``package`` unless it is a full path)."""
    module, _, attribute = reference.partition(':')
    if not module.startswith('docker_plugin.'):
        module = f'{package}.{module}'
    found: Any = importlib.import_module(module)
    for part in attribute.split('.'):
        found = getattr(found, part)
    return found


def table(reference: str) -> OptionTable:
    return resolve(reference)


def secret_finders(entry: NodeKind) -> dict[str, SecretFinder]:
    """Input or property name -> the function that picks its secret strings; the
    Base type's (daemon_client) included."""
    found = {name: resolve(ref) for name, ref in node('base').secrets.items()}
    found.update({name: resolve(ref) for name, ref in entry.secrets.items()})
    return found


def all_secret_inputs() -> dict[str, SecretFinder]:
    """Every secret-bearing input of every kind (for a node that is not ours: seed-style
    nodes map the container's operations onto any type)."""
    found: dict[str, SecretFinder] = {}
    for entry in NODES:
        for name, ref in entry.secrets.items():
            found.setdefault(name, resolve(ref))
    return found


def facade(package: str, module: str = '') -> tuple[Callable[[str], Any], Callable[[], list]]:
    """``__getattr__`` and ``__dir__`` for a kind's operation module (PEP 562): each
    operation is imported the first time it is asked for."""
    kind = package.rsplit('.', 1)[-1]
    entry = node(kind)
    table_: dict[str, str] = {}
    for interface, op in entry.operations():
        if interface.facade == module:
            table_.setdefault(op.attribute, op.impl)
    if not module:  # relationship operations: by their function's name
        for rel in RELATIONSHIPS:
            if rel.kind == kind:
                for op in rel.source_ops:
                    table_.setdefault(rel.function(op), op.impl)

    def getattr_(name: str) -> Any:
        if name not in table_:
            raise AttributeError(f'module {package}{"." + module if module else ""} has no '
                                 f'operation {name!r}')
        return resolve(table_[name], package)

    return getattr_, lambda: sorted(table_)
