"""A swarm, the engines that join it, and its secrets and configs, declared once.

``SWARM`` is the ``cloudify.nodes.docker.Swarm`` node's ``swarm_config``:
``init`` options go into ``POST /swarm/init``, ``spec`` ones into its
``Spec`` (read back from ``GET /swarm``, and changed in place by the swarm
update call). ``MEMBER`` is one engine that joins: an item of the node's
``managers`` and ``workers`` lists, or the properties of a
``member_of_swarm`` relationship from a ``cloudify.nodes.docker.Engine``.
``SECRET`` and ``CONFIG`` are the Secret and Config nodes: their value is
secret, and a changed value makes a new object (see README "Swarm").
``SWARM_NODE`` is the ``cloudify.nodes.docker.SwarmNode`` node: which node of
the swarm it is, and its ``Spec`` (availability, role, labels), read back from
``GET /nodes/<id>`` and changed in place by the node update call;
``NODE_DRAIN`` is how a drain waits for the node's tasks to move.
``ROTATE_TOKENS`` and ``UNLOCK_KEY`` are the inputs of the Swarm node's
actions (``docker.interfaces.swarm``).
"""

from __future__ import annotations

from typing import Any

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import Compare, Option, OptionTable, Update
from docker_plugin.options.checks import (
    FLAG,
    Custom,
    Integer,
    ListOf,
    Number,
    Text,
)
from docker_plugin.options.comparisons import comparisons_check
from docker_plugin.options.container_values import LABELS
from docker_plugin.options.daemon import DAEMON_CLIENT
from docker_plugin.options.network import CIDR
from docker_plugin.options.units import DURATION, DURATION_SHOWN

IN_PLACE = Update.SWARM
ADDRESS = Text(pattern=r'[A-Za-z0-9._:\[\]%-]{1,255}',
               what="an address, address:port or interface like '10.0.0.5:2377' or 'eth0'")
ROLES = ('manager', 'worker')
AVAILABILITY = Text(choices=('active', 'pause', 'drain'))

SWARM = OptionTable('swarm', [
    Option('advertise_addr', ADDRESS, 'init', doc='address the other nodes reach this one at '
                                                  '(needed when the engine has several)'),
    Option('listen_addr', ADDRESS, 'init', default='0.0.0.0:2377',
           doc='address managers listen on (default 0.0.0.0:2377)'),
    Option('data_path_addr', ADDRESS, 'init', doc='address for the overlay data traffic'),
    Option('data_path_port', Integer(1024, 49151), 'init',
           doc='VXLAN port (default 4789; API 1.40+)', min_api=(1, 40)),
    Option('default_addr_pool', ListOf(CIDR), 'init', doc='subnets overlay networks are '
                                                          'carved from (API 1.39+)',
           min_api=(1, 39)),
    Option('subnet_size', Integer(1, 32), 'init', doc='prefix length of each overlay network '
                                                      'from the pool (default 24)'),
    Option('force_new_cluster', FLAG, 'init', default=False,
           doc='force a new cluster from this manager\'s state (recovery only)'),
    Option('task_history_retention_limit', Integer(0, 10 ** 6), 'spec',
           read='Orchestration.TaskHistoryRetentionLimit', update=IN_PLACE,
           doc='tasks kept per slot'),
    Option('dispatcher_heartbeat_period', DURATION, 'spec',
           read='Dispatcher.HeartbeatPeriod', update=IN_PLACE, units=DURATION_SHOWN,
           doc="how often nodes report; a node is Down after about 3 missed (e.g. '2s')"),
    Option('snapshot_interval', Integer(1, 10 ** 9), 'spec', read='Raft.SnapshotInterval',
           update=IN_PLACE, doc='Raft log entries between snapshots'),
    Option('node_cert_expiry', DURATION, 'spec', read='CAConfig.NodeCertExpiry',
           update=IN_PLACE, units=DURATION_SHOWN, doc='validity of node certificates'),
    Option('autolock_managers', FLAG, 'spec', read='EncryptionConfig.AutoLockManagers',
           update=IN_PLACE, doc='lock managers at restart until unlocked with the unlock key'),
    Option('labels', LABELS, 'spec', read='Labels', compare=Compare.SUPERSET, update=IN_PLACE,
           doc='labels of the swarm'),
])


def _daemon_client(value: Any, path: str) -> dict[str, Any]:
    DAEMON_CLIENT.validate(value, path)
    return dict(value)


MEMBER = OptionTable('member', [
    Option('daemon_client', Custom((dict,), _daemon_client, 'how to reach the engine (as '
                                                            'daemon_client)'),
           'member', doc='the engine that joins (list items only; a relationship uses the '
                         "Engine node's)"),
    Option('role', Text(choices=ROLES), 'member', default='worker', doc='manager or worker'),
    Option('advertise_addr', ADDRESS, 'member', doc='address the other nodes reach it at'),
    Option('listen_addr', ADDRESS, 'member', default='0.0.0.0:2377',
           doc='address it listens on as a manager'),
    Option('data_path_addr', ADDRESS, 'member', doc='address for the overlay data traffic'),
    Option('availability', AVAILABILITY, 'member',
           doc='active (default), pause or drain'),
    Option('node_labels', LABELS, 'member', doc='labels set on the node (for placement)'),
])


def members(value: Any, path: str, role: str) -> list[dict[str, Any]]:
    """A ``managers`` or ``workers`` list: each item validated, its role fixed."""
    if value in (None, ''):
        return []
    if not isinstance(value, list):
        raise InvalidInputError(path, 'expected a list of {daemon_client, advertise_addr, ...}')
    out = []
    for index, item in enumerate(value):
        values = MEMBER.parse(item, f'{path}[{index}]')
        if not values.get('daemon_client'):
            raise InvalidInputError(f'{path}[{index}].daemon_client', 'required')
        if isinstance(item, dict) and item.get('role') not in (None, role):
            raise InvalidInputError(f'{path}[{index}].role', f'items of {path} are {role}s')
        values['role'] = role
        out.append(values)
    return out


def data_secrets(value: Any) -> list[str]:
    """The value of a Secret or Config node is secret as a whole (never raises)."""
    return [value] if isinstance(value, str) and value else []


def member_secrets(value: Any) -> list[str]:
    """Secret strings in a ``managers``/``workers`` list (never raises)."""
    found: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            found += DAEMON_CLIENT.secret_values(item.get('daemon_client'))
    return found


# --------------------------------------------------------- secrets, configs
def _object_table(kind: str, extra: list[Option]) -> OptionTable:
    return OptionTable(kind, [
        Option('data', Text(max_len=500 * 1024), 'object', secret=True,
               doc=f'the {kind}\'s value as text (secret: never logged; e.g. get_secret)'),
        Option('file', Text(non_empty=True, max_len=4096), 'object',
               doc=f'a file holding the {kind}\'s value, relative to the blueprint'),
        Option('labels', LABELS, 'object', read='Spec.Labels', compare=Compare.SUPERSET,
               update=Update.NEW_VERSION, doc=f'{kind} labels'),
        *extra,
    ])


SECRET = _object_table('secret', [
    Option('driver', Text(non_empty=True), 'object', read='Spec.Driver.Name',
           update=Update.NEW_VERSION, doc='secret store driver (default: the swarm\'s own)'),
])
CONFIG = _object_table('config', [
    Option('templating', Text(choices=('golang',)), 'object', read='Spec.Templating.Name',
           update=Update.NEW_VERSION, doc='golang: render the config as a template per task '
                                          '(API 1.37+)', min_api=(1, 37)),
])
MAX_OBJECT_BYTES = 500 * 1024  # the swarm's own limit for a secret or config


# ------------------------------------------------------------ swarm nodes
# A node is known by its id or its host name (what ``docker node ls`` shows).
NODE_REF = Text(pattern=r'[A-Za-z0-9][A-Za-z0-9._-]{0,252}',
                what="a node's host name or id (a unique prefix of the id will do)")

SWARM_NODE: OptionTable = OptionTable('swarm_node', [
    Option('node', NODE_REF, 'find',
           doc="the node's host name or id (a unique prefix of the id); empty: the node of "
               'the Engine node this one is related to by node_of_engine'),
    Option('availability', AVAILABILITY, 'spec', read='Spec.Availability', update=IN_PLACE,
           doc="active, pause or drain (a drain waits until the node's tasks moved: "
               'drain_wait)'),
    Option('role', Text(choices=ROLES), 'spec', read='Spec.Role', update=IN_PLACE,
           doc='manager or worker: the node is promoted or demoted (the last manager is '
               'never demoted)'),
    Option('labels', LABELS, 'spec', read='Spec.Labels', compare=Compare.SUPERSET,
           update=IN_PLACE, doc='node labels (for placement constraints); labels set by '
                                'others may stay unless comparisons says labels: strict'),
    Option('comparisons', comparisons_check(lambda: SWARM_NODE, {}), 'plugin',
           doc='how drift compares: {labels: strict | allow_more_present | ignore, '
               "availability: ..., role: ..., '*': ...}"),
])

NODE_DRAIN = OptionTable('drain_wait', [
    Option('wait', FLAG, 'wait', default=True,
           doc="wait until the drained node's tasks moved (false: return at once)"),
    Option('timeout', Number(0, 10 ** 6, above=True, what='seconds'), 'wait', default=300,
           doc='seconds to wait, enforced (default 300)'),
    Option('interval', Number(0.05, 60, what='seconds'), 'wait', default=1.0,
           doc='seconds between looks (default 1)'),
    Option('async', FLAG, 'wait', default=False,
           doc='look once per Cloudify retry instead of holding a worker'),
])

ROTATE_TOKENS = OptionTable('rotate_join_tokens', [
    Option('role', Text(choices=('worker', 'manager', 'both')), 'rotate', default='both',
           doc='whose join token to rotate: worker, manager or both (default)'),
])

# What Cloudify's manager takes as a secret's key.
SECRET_KEY = Text(pattern=r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}',
                  what='a Cloudify secret name (letters, digits, _ . -)')
UNLOCK_KEY = OptionTable('unlock_key', [
    Option('secret', SECRET_KEY, 'deliver',
           doc="the Cloudify secret that receives the key (a manager's: made hidden-value, "
               'its value replaced if it exists)'),
    Option('file', Text(non_empty=True, max_len=4096, what='a path'), 'deliver',
           doc="a file that receives the key (mode 0600, replaced whole; on a manager in the "
               "deployment's work directory)"),
    Option('rotate', FLAG, 'deliver', default=False,
           doc='make a new unlock key first (the old one stops working)'),
], exclusive=[('secret', 'file')])
