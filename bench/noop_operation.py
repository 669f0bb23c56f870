"""An operation that does what every operation of any plugin does in a local workflow,
and nothing else: it reads its node and writes its instance. ``bench/run.py`` maps a
container's lifecycle to it to measure Cloudify's own task handling (the floor of the
local workflow rows)."""

from __future__ import annotations

from typing import Any

from cloudify.decorators import operation


@operation
def touch(ctx: Any, **_kwargs: Any) -> None:
    dict(ctx.node.properties)
    ctx.instance.runtime_properties['touched'] = True
    ctx.instance.update()
