"""A blueprint's ``comparisons``: how drift compares each option, per deployment.

Named as community.docker names them: ``strict`` (equal; in any order where
order means nothing), ``allow_more_present`` (the engine may hold more items
or keys than declared; for lists and dictionaries only) and ``ignore``.
``'*'`` sets every declared option first (``strict`` or ``ignore``), then
each option named sets its own. ``OptionTable.rules`` turns them into each
declared option's ``Compare``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from docker_plugin.errors import InvalidInputError
from docker_plugin.options.base import OptionTable
from docker_plugin.options.checks import Check, Custom

COMPARISON_MODES = ('strict', 'allow_more_present', 'ignore')


def comparisons_check(table: Callable[[], OptionTable],
                      special: Mapping[str, tuple[str, ...]]) -> Check:
    """The check of a table's ``comparisons`` option: ``{option: mode}`` and ``'*'``.

    Args:
        table: returns the table (it holds this option, so it is looked up late).
        special: what else may be named (``image``, ``networks``) and the modes each takes.
    """
    def convert(value: Any, path: str) -> dict[str, str]:
        options = table()
        comparable = set(options.comparable())
        out = {}
        for key, mode in value.items():
            where = f'{path}.{key}'[:200]
            if not isinstance(mode, str) or mode not in COMPARISON_MODES:
                raise InvalidInputError(where, f'expected one of {", ".join(COMPARISON_MODES)}, '
                                               f'got {str(mode)[:40]!r}')
            if key == '*':
                allowed: tuple[str, ...] = ('strict', 'ignore')
            elif isinstance(key, str) and key in special:
                allowed = special[key]
            elif isinstance(key, str) and key in comparable:
                option = options.options[key]
                allowed = COMPARISON_MODES if option.collection else ('strict', 'ignore')
            elif isinstance(key, str) and key in options.options:
                raise InvalidInputError(where, 'this option is never compared, so it takes no '
                                               f'comparison ({options.options[key].doc})')
            else:
                raise InvalidInputError(where, 'not an option drift compares')
            if mode not in allowed:
                raise InvalidInputError(where, f'{mode} is not for {key}: it takes '
                                               f'{" or ".join(allowed)}')
            out[key] = mode
        return out
    modes = ', '.join(COMPARISON_MODES)
    return Custom((dict,), convert, f"a dictionary of option (or '*'): {modes}")
