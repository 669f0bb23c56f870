"""Files left behind that hold a secret: what the canary tiers search."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable


def files_holding(canary: str, roots: Iterable[str | Path] | None = None,
                  skip: Iterable[str | Path] = ()) -> list[str]:
    """Regular files under ``roots`` (default: the temporary directory) that contain
    ``canary``. pytest's own temp directories (``pytest-of-*``: the tests' fixtures write
    there) and the directories in ``skip`` are not read; files of 10 MB or more neither.
    What vanishes during the walk (other programs use the temp directory) is ignored."""
    skipped = {str(p) for p in skip}
    needle, found = canary.encode(), []
    for root in roots or (tempfile.gettempdir(),):
        for directory, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith('pytest-of-') and
                       os.path.join(directory, d) not in skipped]
            for name in files:
                path = Path(directory, name)
                try:
                    if not path.is_symlink() and path.stat().st_size < 10 ** 7 and \
                            needle in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found
