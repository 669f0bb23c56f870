"""Packages whose code runs only when something first uses them.

``import docker`` imports ``docker.transport.sshconn``, which imports paramiko
(and with it cryptography, bcrypt, nacl and invoke) at load time although it
uses it only inside functions: about half of ``import docker``, paid by every
operation for a transport only ``ssh://`` engines use. ``defer('paramiko')``,
run before docker is first imported, puts a stand-in in ``sys.modules``: the
package's module object (its real ``__spec__`` and ``__file__``), its code not
run yet. The first lookup of a name it lacks runs that code into the same
object with ``importlib.reload`` (which holds the package's module lock; the
module is marked as initialising, as the import system marks it), so every holder of the module
(docker's ``sshconn`` among them) sees the real thing, and other threads wait
for it exactly as they wait for any package another thread is importing:

* ``import paramiko`` binds the stand-in; ``paramiko.SSHClient`` or
  ``from paramiko import SSHClient`` runs the package, once;
* a submodule (``import paramiko.client``, as fabric does) runs the package
  first, as Python always does: the stand-in has no ``__path__`` until then, and
  a submodule the package's code has just loaded is not loaded a second time;
* a package that fails while loading leaves ``sys.modules`` (the next
  ``import`` tries again and fails as it would have);
* a package already imported (by the ``cfy`` CLI's fabric, say) or not
  installed is left alone.

``importlib.util.LazyLoader`` cannot do this: its module loads on *any*
attribute access, ``__spec__`` included, which the ``import`` statement itself
reads, so docker's own ``import paramiko`` would load it at once.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any

_state_lock = threading.Lock()
_loading: dict[str, importlib.machinery.ModuleSpec] = {}  # handed to importlib.reload
_pending = threading.local()  # a submodule import made this thread load its package


def defer(name: str) -> bool:
    """Put off running top-level package ``name`` until a name in it is looked up.

    Returns:
        True when a stand-in was installed; False when the package is already
        imported, cannot be found, or is not a package.
    """
    with _state_lock:
        if name in sys.modules or '.' in name:
            return False
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return False
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module') or \
                spec.submodule_search_locations is None:
            return False  # packages only: what this plugin defers
        module = importlib.util.module_from_spec(spec)
        del module.__path__  # a submodule import asks for it first: it runs the package
        module.__getattr__ = _StandIn(module, spec)  # type: ignore[method-assign]
        if not any(isinstance(f, _Finder) for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder())
        sys.modules[name] = module
        return True


class _StandIn:
    """The stand-in's ``__getattr__`` (PEP 562): only called for names it lacks."""

    def __init__(self, module: types.ModuleType, spec: importlib.machinery.ModuleSpec):
        self.module, self.spec = module, spec
        self.state = 'deferred'  # then 'loading', 'loaded' or 'failed'
        self.loader_thread: threading.Thread | None = None

    def __call__(self, attr: str) -> Any:
        name = self.spec.name
        if self.loader_thread is threading.current_thread():
            # The package's own code, still running, asked for a name it has not
            # defined yet: what any partially initialised module answers.
            raise AttributeError(f'partially initialised module {name!r} has no attribute '
                                 f'{attr!r}')
        with _state_lock:
            first = self.state == 'deferred'
            if first:
                self.state = 'loading'
                _loading[name] = importlib.machinery.ModuleSpec(
                    name, _Runner(self, self.spec.loader), origin=self.spec.origin,
                    is_package=True)
        if first:
            try:
                # Runs the package into this very module, holding its module lock.
                importlib.reload(self.module)
            except BaseException:
                if sys.modules.get(name) is self.module:
                    del sys.modules[name]  # as a failed import leaves it
                raise
        elif self.state == 'failed':
            raise AttributeError(f'module {name!r} failed to load')
        else:
            # Waits for the thread that runs it, as for any package another thread
            # is importing (a deadlock is detected, and answered, as always).
            importlib.import_module(name)
        if attr == '__path__':
            # The import system asks for __path__ just before it loads the submodule
            # it was asked for, which the package's code may have loaded meanwhile.
            _pending.package = name
        return getattr(self.module, attr)


class _Runner(importlib.abc.Loader):
    """Runs the package's own loader into the stand-in, for ``importlib.reload``."""

    def __init__(self, stand_in: _StandIn, loader: Any):
        self.stand_in, self.loader = stand_in, loader

    def exec_module(self, module: types.ModuleType) -> None:
        stand_in = self.stand_in
        # reload put the runner's spec in: the package's own goes back, marked the way
        # the import system marks a module being loaded, so that other threads wait.
        module.__spec__, module.__loader__ = stand_in.spec, self.loader
        module.__path__ = list(stand_in.spec.submodule_search_locations or ())
        stand_in.spec._initializing = True  # type: ignore[attr-defined]
        stand_in.loader_thread = threading.current_thread()
        try:
            self.loader.exec_module(module)
            stand_in.state = 'loaded'
        except BaseException:
            stand_in.state = 'failed'
            raise
        finally:
            stand_in.loader_thread = None
            stand_in.spec._initializing = False  # type: ignore[attr-defined]
            if module.__dict__.get('__getattr__') is stand_in:
                del module.__dict__['__getattr__']


class _Finder(importlib.abc.MetaPathFinder):
    """Hands ``importlib.reload`` a deferred package's spec (its loader a ``_Runner``),
    and the import system a submodule the package's code loaded meanwhile.

    ``import pkg.sub`` on a stand-in: the import system finds ``sub`` missing,
    reads ``pkg.__path__`` (which runs ``pkg``, which may import ``pkg.sub``) and
    would then run ``sub``'s code again, into a second module. Right after that,
    in the same thread, this finder gives it the module already there.
    """

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        spec = _loading.pop(fullname, None)  # atomic; taken at most once
        if spec is not None:
            return spec
        package = getattr(_pending, 'package', None)
        if package is None or not fullname.startswith(package + '.'):
            return None
        _pending.package = None
        loaded = sys.modules.get(fullname)
        if loaded is None:
            return None  # not one the package loads itself: loaded as usual
        return importlib.machinery.ModuleSpec(fullname, _Existing(loaded))


class _Existing(importlib.abc.Loader):
    """A loader whose module is one already loaded (its own spec is kept)."""

    def __init__(self, module: types.ModuleType):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: Any) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self.spec  # module_from_spec replaced it with the finder's


class Later:
    """A module of the plugin imported when a name in it is first looked up.

    For a module that only some operations of an operation module use: bound at
    the top of that module (``waits = Later('docker_plugin.tasks.waits')``, typed as
    the module itself under ``TYPE_CHECKING``), it costs nothing to the operations
    that never touch it. The import is Python's own, so it runs once, under the
    import lock, whichever thread asks first.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f'<module {self._name!r}, imported when first used>'
