"""Compose values both mappings convert the same way (containers and swarm services)."""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.units import DURATION

HEALTHCHECK_KEYS = ('test', 'interval', 'timeout', 'retries', 'start_period')
# The engine's defaults for what a healthcheck leaves out.
HEALTHCHECK_DEFAULTS = {'interval': '30s', 'timeout': '30s', 'retries': 3, 'start_period': '0s'}


def healthcheck(value: Mapping[str, Any], note: Callable[[str, str], None]) -> dict | None:
    """The healthcheck option (None when compose gives no test: the image's healthcheck,
    if it defines one, applies with its own settings)."""
    if value.get('disable') or value.get('test') == ['NONE']:
        return {'test': ['NONE']}
    check = {k: value[k] for k in HEALTHCHECK_KEYS if value.get(k) is not None}
    for key in sorted(set(value) - set(HEALTHCHECK_KEYS) - {'disable'}):
        note(f'healthcheck.{key}', 'not mapped')
    if check.get('test'):
        return check
    for key in sorted(set(check) - {'test'}):
        note(f'healthcheck.{key}', "not mapped without a test (the image's healthcheck, if "
             'it has one, keeps its own)')
    return None


def healthcheck_seconds(value: Mapping[str, Any]) -> int | None:
    """How long a healthcheck may take to say healthy or unhealthy: its start period,
    ``retries`` intervals, and one probe's ``timeout`` (None: no test in the file)."""
    if value.get('disable') or not value.get('test') or value.get('test') == ['NONE']:
        return None
    settings = {**HEALTHCHECK_DEFAULTS, **{k: v for k, v in value.items() if v is not None}}
    try:
        seconds = {k: DURATION(settings[k], k) / 10 ** 9
                   for k in ('interval', 'timeout', 'start_period')}
    except InvalidInputError:
        return None
    retries = int(settings['retries'] or 0)
    return math.ceil(seconds['start_period'] + seconds['interval'] * max(retries, 1) +
                     seconds['timeout'])


def ulimits(value: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{'name': name, 'soft': limit, 'hard': limit} if isinstance(limit, int) else
            {'name': name, **{k: limit[k] for k in ('soft', 'hard') if k in limit}}
            for name, limit in value.items()]


def logging(value: Mapping[str, Any]) -> dict[str, Any]:
    return {'type': value.get('driver') or 'json-file', 'config': value.get('options') or {}}


def extra_hosts(value: Any) -> dict[str, str]:
    """``{host: ip}`` from compose's list (``host=ip`` or ``host:ip``) or mapping."""
    pairs = value.items() if isinstance(value, dict) else \
        (str(i).replace('=', ':', 1).split(':', 1) for i in value)
    return {host: ip for host, ip in pairs}
