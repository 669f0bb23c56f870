"""Refusals name their field, without an engine: which option an engine message is
about (``options.refusals.blame``, through the option tables), answers about how the
engine is reached (``daemon_client``), and the permanent answers that were retried."""

from __future__ import annotations

import docker.errors
import pytest
import requests
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error
from helpers.mock_ctx import node_ctx

from docker_plugin.errors import (
    InvalidInputError,
    RefusedError,
    TransientError,
    UnclassifiedError,
    classify,
    classify_message,
)
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.image import IMAGE_BUILD
from docker_plugin.options.network import NETWORK
from docker_plugin.options.refusals import blame, go_quoted
from docker_plugin.options.volume import VOLUME
from docker_plugin.tasks import lifecycle as objects
from docker_plugin.tasks.image import lifecycle as image


@pytest.mark.parametrize(('given', 'refusal', 'option'), [
    # the engine's own name for the field (HostConfig.CapAdd), the value tells nothing apart
    ({'cap_add': ['NOPE'], 'cap_drop': ['NOPE']}, 'invalid CapDrop: unknown capability: '
     '"CAP_NOPE"', 'cap_drop'),
    # the value quoted back (a path), beside options it does not mention
    ({'mounts': [{'Type': 'bind', 'Source': '/srv/gone', 'Target': '/x'}],
      'user': 'app', 'image': 'busybox'},
     'invalid mount config for type "bind": bind source path does not exist: /srv/gone',
     'mounts'),
    # the CLI's spelling of the option
    ({'security_opt': ['x'], 'privileged': True}, 'invalid --security-opt 1: "x"',
     'security_opt'),
    # the runtime's preamble says "runtime" for every refusal: not about the option
    ({'runtime': 'runc', 'sysctls': {'net.nope': '1'}},
     'failed to create shim task: OCI runtime create failed: runc create failed: unable to '
     'start container process: error during container init: open /proc/sys/net/nope: no '
     'such file or directory', 'sysctls'),
    # a part of a value (source of source:target)
    ({'devices': ['/dev/gone:/dev/x'], 'dns': ['10.0.0.1']},
     'error gathering device information while adding custom device "/dev/gone": no such '
     'file or directory', 'devices'),
    # a longer quoted value is more telling than a shorter one
    ({'user': 'nobodyxx', 'hostname': 'no'}, 'unable to find user nobodyxx: no matching '
     'entries in passwd file', 'user'),
    # found by the fuzz tier: the words of the option's name ...
    ({'cpu_period': 500, 'command': ['sleep', '1']}, 'CPU cfs period can not be less than '
     '1ms (i.e. 1000) or larger than 1s (i.e. 1000000)', 'cpu_period'),
    # ... or its singular, among the runtime's words (its preamble set aside) ...
    ({'init': True, 'nano_cpus': 1000}, 'OCI runtime create failed: runc create failed: '
     'unable to start container process: error during container init: error setting cgroup '
     'config for procHooks process: failed to write "1": write /sys/fs/cgroup/cpu/docker/x/'
     'cpu.cfs_quota_us: invalid argument: unknown', 'nano_cpus'),
    # ... more of them over fewer (cpu_count's only word is "cpu" too) ...
    ({'cpu_count': 2, 'cpu_rt_runtime': 5}, 'OCI runtime create failed: unable to apply '
     'cgroup configuration: failed to write "1": write /sys/fs/cgroup/cpu/docker/x/'
     'cpu.rt_runtime_us: invalid argument', 'cpu_rt_runtime'),
    ({'cpu_count': 1, 'cpu_period': 5}, 'CPU cfs period can not be less than 1ms (i.e. '
     '1000) or larger than 1s (i.e. 1000000)', 'cpu_period'),
    # ... where common words of other options' names ("only") count for nothing ...
    ({'nano_cpus': 10 ** 11, 'read_only': True}, 'Range of CPUs is from 0.01 to 2.00, as '
     'there are only 2 CPUs available', 'nano_cpus'),
    # ... a one-digit value the engine repeats ...
    ({'cpuset_mems': '8', 'image': 'busybox'}, 'Requested memory nodes are not available - '
     'requested 8, available: 0', 'cpuset_mems'),
    # ... a one-character command in Go's quotes
    ({'nano_cpus': 10 ** 9, 'command': ['\U0001f3fb']}, 'OCI runtime create failed: exec: '
     '"\U0001f3fb": executable file not found in $PATH: unknown', 'command'),
])
def test_blame_finds_the_option_a_refusal_is_about(given, refusal, option):
    assert blame(CONTAINER, given, refusal) == option


@pytest.mark.parametrize(('given', 'refusal'), [
    ({'cap_add': ['NOPE']}, 'something else entirely went wrong'),
    ({'labels': {'a': 'b'}, 'hostname': 'b'}, 'b'),  # pieces shorter than two characters
    ({'user': 'same', 'hostname': 'same'}, 'no such thing: same'),  # a tie names neither
    ({'colour': 'red'}, 'red is not a colour'),  # not an option of the table
])
def test_blame_names_nothing_rather_than_a_guess(given, refusal):
    assert blame(CONTAINER, given, refusal) is None


def test_every_table_can_be_blamed_through_its_read_paths():
    assert blame(NETWORK, {'driver': 'nope', 'internal': True},
                 'plugin "nope" not found') == 'driver'
    # values the engine prints in Go's quoting (%q), control characters escaped
    assert blame(NETWORK, {'driver': '\v', 'internal': True},
                 'plugin "\\v" not found') == 'driver'
    assert blame(VOLUME, {'driver_opts': {'\x9dL\x18\U00081ec9': 'x'}, 'labels': {'a': 'b'}},
                 'create v: invalid option: "\\u009dL\\x18\\U00081ec9"') == 'driver_opts'
    assert blame(NETWORK, {'enable_ipv6': True, 'ipam': {'driver': 'default'}},
                 'could not find an available, non-overlapping IPv6 address pool among the '
                 'defaults to assign to the network') == 'enable_ipv6'
    assert blame(NETWORK, {'scope': 'swarm', 'driver': 'bridge'},
                 'This node is not a swarm manager. Use "docker swarm init"') == 'scope'
    assert blame(IMAGE_BUILD, {'tag': 'a' * 300, 'path': '/ctx'},
                 'repository name must not be more than 255 characters: ' + 'a' * 300) == 'tag'


def test_values_are_quoted_as_go_quotes_them():
    assert go_quoted('\x9dL\xdd\x18\xe4\U00081ec9\x03') == \
        '"\\u009dL\xdd\\x18\xe4\\U00081ec9\\x03"'
    assert go_quoted('\v"\\') == '"\\v\\"\\\\"'


def test_refused_names_the_input_the_option_was_given_in():
    exc = RefusedError('create: engine refused (400): invalid CapAdd: x', 'invalid CapAdd: x')
    found = objects.refused(exc, 'the engine refused it', CONTAINER,
                            {'container_start': {'cap_add': ['x']},
                             'container_config': {'cap_add': ['y'], 'user': 'u'}},
                            'container_config')
    assert str(found).startswith('container_start.cap_add: the engine refused it: create:')
    nothing = objects.refused(RefusedError('odd'), 'refused', CONTAINER,
                              {'container_config': {'user': 'u'}}, 'container_config')
    assert str(nothing).startswith('container_config: refused: odd')


def test_a_refusal_without_a_reason_names_the_one_suspect_given():
    """runc failing with no word of why ("can't get final child's PID from pipe", as a
    negative oom_score_adj without the privilege does, found by the fuzz tier) failed
    applying host options: with one given, it is named; with two, neither."""
    detail = ("OCI runtime create failed: runc create failed: unable to start container "
              "process: can't get final child's PID from pipe: EOF: unknown")
    exc = RefusedError(f'start: {detail}', detail)
    host = CONTAINER.names('host')
    one = objects.refused(exc, 'refused', CONTAINER, {'container_config': {
        'oom_score_adj': -1, 'image': 'busybox', 'command': ['true']}}, 'container_config',
        host, 'the runtime gave no reason')
    assert str(one).startswith('container_config.oom_score_adj: refused (the runtime gave no '
                               'reason: oom_score_adj is the only one given)')
    unset = objects.refused(exc, 'refused', CONTAINER, {'container_config': {
        'oom_score_adj': -1, 'auto_remove': False, 'shm_size': 0}}, 'container_config',
        host, 'no reason')  # what asks nothing of the runtime is no suspect
    assert str(unset).startswith('container_config.oom_score_adj: refused')
    two = objects.refused(exc, 'refused', CONTAINER, {'container_config': {
        'oom_score_adj': -1, 'privileged': True}}, 'container_config', host, 'no reason')
    assert str(two).startswith('container_config: refused: start:')


# ---------------------------------------------------------------- classification
HTTPS = 'Client sent an HTTP request to an HTTPS server.'


def _negotiation_failure(cause: BaseException) -> docker.errors.DockerException:
    """What the SDK raises when its first request (/version, for version='auto') fails."""
    try:
        try:
            raise cause
        except Exception as inner:
            raise docker.errors.DockerException(
                f'Error while fetching server API version: {inner}') from inner
    except docker.errors.DockerException as outer:
        return outer


@pytest.mark.parametrize('exc', [
    api_error(400, HTTPS),  # a pinned API version: the first call gets the answer
    _negotiation_failure(api_error(400, HTTPS)),  # version 'auto': /version gets it
])
def test_no_tls_against_a_tls_engine_is_permanent_and_names_daemon_client_tls(exc):
    found = classify(exc, 'inspect container x')
    assert isinstance(found, InvalidInputError) and found.recoverable is False
    assert str(found).startswith('daemon_client.tls: inspect container x: the engine speaks '
                                 'TLS')


@pytest.mark.parametrize(('cause', 'kind', 'opening'), [
    (requests.exceptions.ConnectionError('refused'), TransientError, 'connect:'),
    (api_error(503, 'busy'), TransientError, 'connect:'),
    (api_error(404, 'page not found', docker.errors.NotFound), InvalidInputError,
     'daemon_client: connect: what answers there is not a Docker engine'),
    (api_error(401, 'authentication required'), InvalidInputError, 'daemon_client: connect:'),
    (api_error(500, 'what is this'), UnclassifiedError, 'connect:'),
])
def test_a_failed_version_negotiation_is_classified_by_its_cause(cause, kind, opening):
    found = classify(_negotiation_failure(cause), 'connect')
    assert type(found) is kind and str(found).startswith(opening), str(found)


@pytest.mark.parametrize('message', [
    'repository name must not be more than 255 characters',
    'Unable to find group nogroupx: no matching entries in group file',
])
def test_answers_once_retried_are_permanent(message):
    found = classify_message(500, message, 'act')
    assert type(found) is RefusedError and found.detail == message


# ---------------------------------------------------------------- image sources
@pytest.fixture
def make_ctx():
    def make(**properties):
        return node_ctx('dep', properties, node='i', instance='i_abc')
    yield make
    current_ctx.clear()


def test_an_image_node_without_a_source_names_image_pull_repository(make_ctx):
    with pytest.raises(NonRecoverableError) as failure:
        image.create(ctx=make_ctx(), daemon_client={'base_url': 'tcp://127.0.0.1:9'})
    message = str(failure.value)
    assert message.startswith('image_pull.repository: required: no image source is given')
    assert 'container_config' not in message  # an Image node has none


def test_a_330_character_tag_is_refused_before_the_engine(make_ctx):
    with pytest.raises(NonRecoverableError, match=r'^image_build\.tag: the repository name '
                                                  r'is 330 characters long'):
        image.create(ctx=make_ctx(), daemon_client={'base_url': 'tcp://127.0.0.1:9'},
                     image_build={'path': '.', 'tag': 'a' * 330})


def test_of_two_names_with_the_same_long_words_the_one_said_whole_is_blamed():
    # Found by the seeded fuzz: cpu_period 1 beside cpu_rt_period 0 ("CPU cfs period can
    # not be less than 1ms") was blamed on neither: both names' long words are cpu, period.
    refusal = 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s'
    assert blame(CONTAINER, {'cpu_period': 1, 'auto_remove': False, 'cpu_rt_period': 0},
                 refusal) == 'cpu_period'
