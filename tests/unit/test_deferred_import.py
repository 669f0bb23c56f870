"""docker_plugin.deferred: paramiko runs only when an ssh:// engine uses it.

The paramiko tests run in fresh interpreters (this one imported docker, and with
it paramiko, long ago); the mechanism itself is tested on small packages made here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from docker_plugin import deferred


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_the_client_factory_imports_docker_without_running_paramiko():
    out = _run("""
        import sys
        import docker_plugin.client
        from docker_plugin.client import client_kwargs, resolve_config
        import docker
        docker.DockerClient(**client_kwargs(resolve_config({'version': '1.41'}, {}),
                                            None)).close()
        print(sorted(m for m in ('paramiko.client', 'paramiko.transport', 'invoke',
                                 'nacl', 'bcrypt') if m in sys.modules))
        print(type(sys.modules['paramiko']).__name__, hasattr(docker.transport, 'SSHHTTPAdapter'))
    """)
    assert out.splitlines() == ['[]', 'module True']


def test_operations_on_several_threads_first_use_paramiko_at_once():
    """Local runs execute operations on threads: several ssh:// clients may be the
    first to touch paramiko at the same moment (through docker's reference to it,
    or an import statement); each waits for the one loading it."""
    out = _run("""
        import sys, threading
        import docker_plugin.client, docker
        sshconn = docker.transport.sshconn
        seen, errors, barrier = [], [], threading.Barrier(8)
        def use(index):
            barrier.wait()
            try:
                if index % 2:
                    seen.append(sshconn.paramiko.SSHClient)
                else:
                    from paramiko import SSHClient
                    seen.append(SSHClient)
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=use, args=(i,)) for i in range(8)]
        for t in threads: t.start()
        for t in threads: t.join(60)
        import paramiko.client
        assert not errors, errors
        assert seen == [paramiko.client.SSHClient] * 8, seen
        print(sshconn.paramiko is paramiko is sys.modules['paramiko'])
    """)
    assert out == 'True'


def test_paramiko_imported_by_others_in_the_same_process_is_the_real_one():
    """What local ``cfy`` runs do: the plugin defers paramiko, then fabric imports
    paramiko's submodules first, and other code the package itself."""
    out = _run("""
        import sys
        import docker_plugin.client, docker
        assert 'paramiko.client' not in sys.modules
        import fabric                               # from paramiko.agent import ... first
        import paramiko, paramiko.client, paramiko.transport
        from paramiko import SSHClient, RSAKey, util
        assert fabric.connection.SSHClient is SSHClient is paramiko.client.SSHClient
        assert paramiko.transport.Transport is paramiko.Transport and util is paramiko.util
        assert docker.transport.sshconn.paramiko is paramiko is sys.modules['paramiko']
        assert paramiko.__spec__.loader is paramiko.__loader__ and paramiko.__path__
        assert '__getattr__' not in vars(paramiko)  # nothing of the stand-in is left
        print(RSAKey.__module__, paramiko.__version__ != '')
    """)
    assert out == 'paramiko.rsakey True'


def test_paramiko_imported_before_the_plugin_is_left_alone():
    out = _run("""
        import paramiko, sys
        from docker_plugin import deferred
        import docker_plugin.client
        print(deferred.defer('paramiko'), sys.modules['paramiko'] is paramiko)
    """)
    assert out == 'False True'


@pytest.fixture
def package(tmp_path, monkeypatch):
    """Make importable packages; forget them after."""
    made: list[str] = []

    def make(name: str, init: str, **submodules: str) -> str:
        root = tmp_path / name
        root.mkdir()
        (root / '__init__.py').write_text(textwrap.dedent(init))
        for sub, code in submodules.items():
            (root / f'{sub}.py').write_text(textwrap.dedent(code))
        made.append(name)
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for name in list(sys.modules):
        if name.split('.')[0] in made:
            del sys.modules[name]


def test_the_code_runs_once_on_first_use_into_the_same_module(package):
    name = package('dp_lazy_a', """
        import time
        from . import helper
        RUNS = getattr(helper, 'RUNS', 0) + 1
        helper.RUNS = RUNS
        time.sleep(0.2)  # long enough for the other threads to arrive mid-load
        VALUE = helper.value()
    """, helper="""
        def value():
            import dp_lazy_a
            return 'from ' + dp_lazy_a.__name__
    """)
    assert deferred.defer(name)
    stand_in = sys.modules[name]
    assert 'VALUE' not in vars(stand_in) and f'{name}.helper' not in sys.modules
    values, barrier = [], threading.Barrier(6)

    def use():
        barrier.wait()
        values.append(stand_in.VALUE)
    threads = [threading.Thread(target=use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert values == ['from dp_lazy_a'] * 6
    assert stand_in.RUNS == 1 and sys.modules[name] is stand_in
    with pytest.raises(AttributeError):
        stand_in.missing  # noqa: B018 - a name the module lacks is still missing
    assert not deferred.defer(name)  # imported now: nothing to defer


def test_a_submodule_imported_first_runs_its_package_first(package):
    """As paramiko's transport module reads ``paramiko.__version__`` while it loads."""
    name = package('dp_lazy_c', """
        VERSION = '1.0'
        RUNS = []
        from dp_lazy_c.transport import Transport
        RUNS.append(1)
    """, transport="""
        import dp_lazy_c
        from dp_lazy_c import util
        class Transport:
            version = dp_lazy_c.VERSION + util.SUFFIX
    """, util="SUFFIX = '-u'\n")
    assert deferred.defer(name)
    stand_in = sys.modules[name]
    transport = __import__(f'{name}.transport', fromlist=['Transport'])
    assert transport.Transport.version == '1.0-u'
    assert stand_in.Transport is transport.Transport  # one module, run once
    assert stand_in.RUNS == [1] and stand_in.transport is transport
    assert sys.modules[f'{name}.transport'].__spec__.origin.endswith('transport.py')


def test_a_package_that_fails_to_load_fails_as_an_import_would(package):
    name = package('dp_lazy_b', "raise RuntimeError('broken on purpose')\n")
    assert deferred.defer(name)
    stand_in = sys.modules[name]
    with pytest.raises(RuntimeError, match='broken on purpose'):
        stand_in.anything  # noqa: B018
    assert name not in sys.modules
    with pytest.raises(RuntimeError, match='broken on purpose'):
        __import__(name)


def test_what_is_missing_or_not_top_level_is_not_deferred():
    assert not deferred.defer('dp_no_such_module_anywhere')
    assert not deferred.defer('os.path')
    assert 'dp_no_such_module_anywhere' not in sys.modules
