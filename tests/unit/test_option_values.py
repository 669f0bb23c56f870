"""The grammars behind the container options a peer's users expect: env files, CPUs,
swap, device rates, devices and mounts written as text (no engine)."""

from __future__ import annotations

import docker.errors
import pytest
from cloudify.exceptions import NonRecoverableError
from cloudify.state import current_ctx
from helpers.fakes import api_error, fake_api, fake_engine
from helpers.mock_ctx import node_ctx

from docker_plugin import tasks
from docker_plugin.errors import InvalidInputError
from docker_plugin.options.container import CONTAINER
from docker_plugin.options.container_values import env_file_text


def validate(raw):
    parts = CONTAINER.validate(raw, 'container_config')
    return {name: value for section, found in parts.items() if section != 'extra'
            for name, value in found.items()}


# ------------------------------------------------------------------ env files
def test_an_env_file_is_read_as_docker_run_reads_one():
    text = '# a comment\n\nA=1\n  B = spaced\nC=x=y\nD=\nE="quoted"\n'
    assert env_file_text(text, 'f') == {'A': '1', 'B ': ' spaced', 'C': 'x=y', 'D': '',
                                        'E': '"quoted"'}


@pytest.mark.parametrize('line', ['NAME_ALONE', '=hidden', 'A\x00B=1'])
def test_a_bad_env_file_line_is_named_by_number_never_by_its_text(line):
    with pytest.raises(InvalidInputError) as failure:
        env_file_text(f'OK=1\n{line}\n', 'container_config.env_file')
    message = str(failure.value)
    assert message.startswith('container_config.env_file: line 2: expected NAME=value')
    assert line not in message


@pytest.fixture
def make_ctx():
    def make(runtime_properties=None):
        return node_ctx('dep', runtime=runtime_properties or {'image': 'busybox'}, node='c1',
                        instance='c1_abc')
    yield make
    current_ctx.clear()


def _configure(ctx, config):
    api = fake_api()
    api.create_container.return_value = {'Id': 'a' * 64}
    api.inspect_container.side_effect = [api_error(404, 'x', docker.errors.NotFound),
                                         {'Id': 'a' * 64, 'Name': '/n', 'State': {}}]
    with fake_engine(api):
        tasks.configure(ctx=ctx, container_config=config)
    return api.create_container.call_args.kwargs


def test_env_files_in_order_then_the_environment_then_the_runtime_then_secrets(make_ctx,
                                                                              tmp_path):
    first, second = tmp_path / 'first.env', tmp_path / 'second.env'
    first.write_text('A=first\nB=first\nC=first\nD=first\nE=first\n')
    second.write_text('B=second\nC=second\nD=second\nE=second\n')
    ctx = make_ctx({'image': 'busybox', 'docker_env_var': {'D': 'runtime'}})
    kwargs = _configure(ctx, {'env_file': [str(first), str(second)],
                              'environment': {'C': 'declared'},
                              'secret_environment': {'E': 'secret'}})
    assert kwargs['environment'] == {'A': 'first', 'B': 'second', 'C': 'declared',
                                     'D': 'runtime', 'E': 'secret'}


@pytest.mark.parametrize(('content', 'words'), [
    (None, 'not found among the blueprint resources'),
    (b'A=1\nTOKEN_ALONE\n', 'line 2: expected NAME=value'),
    (b'A=\xff\n', 'not UTF-8 text'),
])
def test_a_bad_env_file_is_refused_before_the_engine_naming_the_field(make_ctx, tmp_path,
                                                                     content, words):
    path = 'missing.env'
    if content is not None:
        (tmp_path / 'bad.env').write_bytes(content)
        path = str(tmp_path / 'bad.env')
    ctx = make_ctx()
    api = fake_api()
    with fake_engine(api), pytest.raises(NonRecoverableError) as failure:
        tasks.configure(ctx=ctx, container_config={'env_file': path})
    assert str(failure.value).startswith('container_config.env_file'), str(failure.value)
    assert words in str(failure.value) and 'TOKEN_ALONE' not in str(failure.value)
    api.create_container.assert_not_called()


# ------------------------------------------------------------------ numbers with units
@pytest.mark.parametrize(('raw', 'expected'), [
    ({'cpus': 1.5}, {'cpus': 1_500_000_000}),
    ({'cpus': 2}, {'cpus': 2_000_000_000}),
    ({'memswap_limit': 'unlimited'}, {'memswap_limit': -1}),
    ({'memswap_limit': -1}, {'memswap_limit': -1}),
    ({'memswap_limit': '1g'}, {'memswap_limit': 1024 ** 3}),
    ({'device_read_bps': [{'path': '/dev/sda', 'rate': '20M'}]},
     {'device_read_bps': [{'Path': '/dev/sda', 'Rate': 20 * 1024 ** 2}]}),
    ({'device_write_bps': [{'Path': '/dev/sda', 'Rate': 1024}]},
     {'device_write_bps': [{'Path': '/dev/sda', 'Rate': 1024}]}),
    ({'device_read_iops': [{'path': '/dev/sda', 'rate': 100}]},
     {'device_read_iops': [{'Path': '/dev/sda', 'Rate': 100}]}),
    ({'devices': ['/dev/null', '/dev/null:rw', '/dev/null:/dev/n', '/dev/null:/dev/n:r']},
     {'devices': [{'PathOnHost': '/dev/null', 'PathInContainer': '/dev/null',
                   'CgroupPermissions': p} for p in ('rwm', 'rw')] +
      [{'PathOnHost': '/dev/null', 'PathInContainer': '/dev/n', 'CgroupPermissions': p}
       for p in ('rwm', 'r')]}),
    ({'mounts': ['/tmp:/b:ro', 'vol:/v', '/anon']},
     {'mounts': [{'Target': '/b', 'Source': '/tmp', 'Type': 'bind', 'ReadOnly': True},
                 {'Target': '/v', 'Source': 'vol', 'Type': 'volume', 'ReadOnly': False},
                 {'Target': '/anon', 'Source': '', 'Type': 'volume', 'ReadOnly': False}]}),
    ({'mounts': [{'target': '/t', 'type': 'tmpfs', 'tmpfs_size': '64m', 'tmpfs_mode': '1777'}]},
     {'mounts': [{'Target': '/t', 'Source': '', 'Type': 'tmpfs', 'ReadOnly': False,
                  'TmpfsOptions': {'SizeBytes': 64 * 1024 ** 2, 'Mode': 0o1777}}]}),
    ({'mounts': [{'target': '/b', 'source': '/h', 'type': 'bind', 'non_recursive': True}]},
     {'mounts': [{'Target': '/b', 'Source': '/h', 'Type': 'bind', 'ReadOnly': False,
                  'BindOptions': {'NonRecursive': True}}]}),
    ({'paused': False, 'image_comparison': 'current-image', 'image_name_mismatch': 'ignore',
      'comparisons': {'*': 'strict', 'environment': 'allow_more_present',
                      'networks': 'strict', 'image': 'ignore'}},
     {'paused': False, 'image_comparison': 'current-image', 'image_name_mismatch': 'ignore',
      'comparisons': {'*': 'strict', 'environment': 'allow_more_present',
                      'networks': 'strict', 'image': 'ignore'}}),
])
def test_values_a_peers_users_write(raw, expected):
    assert validate(raw) == expected


@pytest.mark.parametrize(('raw', 'field', 'words'), [
    ({'cpus': 0}, 'cpus', '> 0'),
    ({'cpus': float('nan')}, 'cpus', 'a number of CPUs'),
    ({'cpus': 'two'}, 'cpus', 'a number of CPUs'),
    ({'memswap_limit': 'lots'}, 'memswap_limit', 'size'),
    ({'memswap_limit': -2}, 'memswap_limit', 'size'),
    ({'device_read_bps': [{'path': '/dev/sda', 'rate': 'fast'}]},
     'device_read_bps[0].rate', 'size'),
    ({'device_read_iops': [{'path': '/dev/sda', 'rate': '20M'}]},
     'device_read_iops[0].rate', 'an integer'),
    ({'blkio_weight_device': [{'path': '/dev/sda', 'weight': 5}]},
     'blkio_weight_device[0].weight', 'from 10 to 1000'),
    ({'devices': ['/dev/null:wat']}, 'devices[0]', '/dev/x'),
    ({'devices': ['dev/null']}, 'devices[0]', '/dev/x'),
    ({'mounts': ['/tmp:/b:z']}, 'mounts[0]', 'binds'),
    ({'mounts': ['relative']}, 'mounts[0]', 'absolute path'),
    ({'mounts': [{'target': '/t', 'type': 'tmpfs', 'tmpfs_mode': '999'}]},
     'mounts[0].tmpfs_mode', 'octal'),
    ({'mounts': [{'target': '/v', 'type': 'volume', 'tmpfs_size': '1m'}]},
     'mounts[0]', 'for a tmpfs mount'),
    ({'ipc_mode': ''}, 'ipc_mode', 'host, private'),
    ({'env_file': ['ok.env', '']}, 'env_file[1]', 'empty'),
    ({'paused': 'yes'}, 'paused', 'true or false'),
    ({'image_comparison': 'newest'}, 'image_comparison', 'desired-image'),
])
def test_wrong_values_name_the_field(raw, field, words):
    with pytest.raises(InvalidInputError) as failure:
        validate(raw)
    assert str(failure.value).startswith(f'container_config.{field}:'), str(failure.value)
    assert words in str(failure.value), str(failure.value)


def test_container_start_takes_none_of_the_plugins_own_options():
    with pytest.raises(InvalidInputError, match=r'container_start\.paused: not accepted here'):
        CONTAINER.validate({'paused': True}, 'container_start', sections=('host',))
