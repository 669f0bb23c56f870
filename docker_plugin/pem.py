"""PEM text as file paths, without leaving a file behind.

The docker SDK's ``TLSConfig`` (and OpenSSL under it) takes certificates and
keys as file paths. PEM text given in a blueprint (from Cloudify secrets) is
put in anonymous in-memory files (``memfd``, Linux) and handed over as
``/proc/self/fd/N``: nothing is written to any file system, and the memory
goes when the operation closes the descriptor. Where memfd does not exist,
a private 0700 directory holds 0600 files and is removed on every path out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Callable, Iterator

PEM_MARK = '-----BEGIN'


def is_pem(value: str) -> bool:
    return value.lstrip().startswith(PEM_MARK)


@contextlib.contextmanager
def pem_paths() -> Iterator[Callable[[str, str], str]]:
    """Yields ``path_for(pem_text, name)``; everything it made is gone on exit."""
    descriptors: list[int] = []
    directory: list[str] = []

    def path_for(text: str, name: str) -> str:
        data = (text if text.endswith('\n') else text + '\n').encode()
        memfd = getattr(os, 'memfd_create', None)
        if memfd is not None:
            fd = memfd(f'docker-plugin-{name}', getattr(os, 'MFD_CLOEXEC', 1))
            descriptors.append(fd)
            os.write(fd, data)
            return f'/proc/self/fd/{fd}'
        if not directory:
            directory.append(tempfile.mkdtemp(prefix='docker-plugin-tls-'))
        path = os.path.join(directory[0], name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        return path

    # In-memory files a child process must inherit to open the paths (pass_fds).
    path_for.descriptors = descriptors  # type: ignore[attr-defined]
    try:
        yield path_for
    finally:
        for fd in descriptors:
            with contextlib.suppress(OSError):
                os.close(fd)
        if directory:
            shutil.rmtree(directory[0], ignore_errors=True)
