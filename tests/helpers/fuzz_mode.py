"""How the fuzz tier draws its examples: seeded (CI, the default) or exploring.

``DOCKER_PLUGIN_FUZZ`` unset or ``seeded``: every example is derived from the
test's own code (hypothesis ``derandomize``): each run, CI's and a developer's,
tries the same examples, so a failure found is found again. ``explore``: new
examples each run from a seed printed in the header (``--hypothesis-seed=N``
runs the same ones again), more of them, and a failure is printed with the
``@reproduce_failure`` blob that replays it. ``DOCKER_PLUGIN_FUZZ_EXAMPLES``
and ``DOCKER_PLUGIN_FUZZ_SWARM_EXAMPLES`` set the counts in either mode.
"""

from __future__ import annotations

import dataclasses
import os
import random
from typing import Mapping

ENV = 'DOCKER_PLUGIN_FUZZ'
SEEDED, EXPLORE = 'seeded', 'explore'
# Examples per input, and of them per input on the three-engine swarm (each makes a
# service there): seeded as CI runs them, and exploring.
DEFAULTS = {SEEDED: (120, 120), EXPLORE: (600, 200)}


@dataclasses.dataclass(frozen=True)
class FuzzMode:
    name: str
    examples: int
    swarm_examples: int

    @property
    def exploring(self) -> bool:
        return self.name == EXPLORE


def fuzz_mode(environ: Mapping[str, str] = os.environ) -> FuzzMode:
    """The mode ``environ`` asks for.

    Raises:
        ValueError: ``DOCKER_PLUGIN_FUZZ`` is neither ``seeded`` nor ``explore``.
    """
    name = environ.get(ENV, '') or SEEDED
    if name not in DEFAULTS:
        raise ValueError(f'{ENV}={name!r}: {SEEDED!r} (the default) or {EXPLORE!r}')
    examples, swarm = DEFAULTS[name]
    examples = int(environ.get('DOCKER_PLUGIN_FUZZ_EXAMPLES', examples))
    swarm = min(examples, int(environ.get('DOCKER_PLUGIN_FUZZ_SWARM_EXAMPLES', swarm)))
    return FuzzMode(name, examples, swarm)


def session_seed() -> int:
    """A seed for an exploring session that was given none."""
    return random.SystemRandom().randrange(2 ** 32)
