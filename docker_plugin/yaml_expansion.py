"""YAML whose aliases blow up, refused before compose reads it.

Compose expands every alias of a document into a copy. Ten lines that alias
each other nine times over (a "billion laughs") expand to millions of nodes:
compose then takes minutes and gigabytes to read them (seen with 2.40: five
million nodes, 2.6 GB, killed at 60 s). PyYAML's composer keeps an alias as
a reference to one node, so the size a document expands to is counted here,
in at most ``MAX_NODES`` steps, without expanding it.
"""

from __future__ import annotations

from docker_plugin.errors import InvalidInputError

MAX_NODES = 100_000  # a project of 300 services of 50 settings each is 15,000


def expanded_nodes(text: str, limit: int = MAX_NODES) -> int | None:
    """How many nodes ``text`` expands to (counting stops just past ``limit``); None when
    it is not one YAML document (compose says what is wrong with it then)."""
    import yaml  # only when a document is read
    try:
        # The pure-Python loader: deep nesting ends in a RecursionError, never a crash.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    count, stack = 0, [root] if root is not None else []
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
    return count


def check_expansion(text: str, field: str, limit: int = MAX_NODES) -> None:
    """Raises InvalidInputError naming ``field`` when ``text`` expands past ``limit`` nodes."""
    try:
        count = expanded_nodes(text, limit)
    except RecursionError:
        raise InvalidInputError(field, 'the YAML is nested too deeply to be read') from None
    if count is not None and count > limit:
        raise InvalidInputError(field, f'the YAML expands to more than {limit} nodes through '
                                       'its aliases (&anchor / *alias): compose would need '
                                       'minutes and gigabytes to read it')
