"""Which option an engine's refusal is about, found through the option tables.

The engine refuses a whole request with one message ("invalid CapAdd: unknown
capability: CAP_NOPE", "bind source path does not exist: /srv/data", "unable to find
user app"). Its words point at the option in three ways, each known to the tables:

* the engine's own name for the field: the last part of the option's ``read`` path
  (``HostConfig.CapAdd`` -> ``CapAdd``, ``Config.User`` -> ``User``), or the docker
  CLI's spelling of the option's name (``--security-opt``);
* the words of the option's name (``cpu_period``: "CPU cfs period can not be ...");
* the value the blueprint gave it, quoted back (a path, a user, a capability), as it
  stands or in Go's quoting (``"\v"``: the engine's ``%q``).

``blame`` scores every option the blueprint gave on those and returns the best one, so
that an error names ``container_config.cap_add`` rather than ``container_config``. It
knows nothing of any particular option: a new option in a table is covered as it is
declared.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from docker_plugin.options.base import OptionTable

# What the runtime puts in front of every refusal it passes on: not about any option
# (``runtime`` would otherwise be blamed for each of them).
BOILERPLATE = ('failed to create shim task', 'oci runtime create failed',
               'oci runtime exec failed', 'runc create failed',
               'unable to start container process', 'error during container init',
               'starting container process caused')
MIN_PIECE = 2      # shorter values ("a") are found by chance, unless quoted or a number
NAME_SCORE = 2.0   # the engine named the field: worth more than any quoted value
WORDS_SCORE = 1.5  # every word of the option's name is there (scaled by the share found)
WORD_SCORE = 0.1   # and each word found: cpu_rt_runtime over cpu_count in cpu.rt_runtime_us
VALUE_SCORE = 1.0  # plus up to 0.5 for a longer (more telling) quoted value
# Words of option names that say nothing of which option it is (engine messages use
# them for anything: "only 2 CPUs available", "read-only file system").
COMMON_WORDS = {'config', 'mode', 'options', 'opts', 'enable', 'disable', 'size', 'name',
                'type', 'path', 'limit', 'count', 'use', 'add', 'drop', 'only', 'read',
                'write', 'all', 'max', 'min', 'from', 'default', 'timeout', 'time'}
_SEPARATORS = re.compile(r'[\s:=,;]+')
_GO_ESCAPES = {'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r',
               '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\'}


def _mentions(text: str, word: str) -> bool:
    """``word`` stands in ``text`` on its own (not inside a longer name or number)."""
    return re.search(rf'(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])', text,
                     re.IGNORECASE) is not None


def go_quoted(text: str) -> str:
    """``text`` as Go's ``%q`` prints it (how the engine quotes a value it refuses)."""
    def rune(char: str) -> str:
        if char in _GO_ESCAPES:
            return _GO_ESCAPES[char]
        if char.isprintable():
            return char
        code = ord(char)
        return f'\\x{code:02x}' if code < 0x80 else f'\\u{code:04x}' if code < 0x10000 \
            else f'\\U{code:08x}'
    return '"' + ''.join(rune(c) for c in text) + '"'


def _strings(value: Any) -> Iterator[str]:
    """Every text a value holds: its strings and numbers, its keys, recursively (the
    SDK's types an option's check builds, a Mount or an Ulimit, are dictionaries)."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (str, int, float)):
        yield str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set)):
        for item in value:
            yield from _strings(item)


def _pieces(value: Any) -> set[str]:
    """What the engine may quote of a value: each text whole and split at separators
    (``/src:/dst`` -> ``/src``), and dotted names as paths (a sysctl ``net.x`` is
    ``/proc/sys/net/x`` to the runtime)."""
    found = set()
    for text in _strings(value):
        for piece in (text, *_SEPARATORS.split(text)):
            if piece:
                found.add(piece)
                if '.' in piece and '/' not in piece:
                    found.add(piece.replace('.', '/'))
    return found


def _quotes(text: str, piece: str) -> bool:
    """``text`` quotes ``piece``: in Go's quotes (any piece), or as a word of its own
    (a number, or a piece long enough not to be there by chance)."""
    if go_quoted(piece) in text:
        return True
    return (piece.isdigit() or len(piece) >= MIN_PIECE) and _mentions(text, piece)


SHORT_WORD_PENALTY = 0.01


def _words(name: str) -> list[str]:
    return [w for w in name.split('_') if w not in COMMON_WORDS and len(w) >= 3]


def _says(text: str, word: str) -> bool:
    """``word`` of an option's name is in ``text``, or its singular (``cpus``: the
    kernel's ``cpu.cfs_quota_us``)."""
    return _mentions(text, word) or (word.endswith('s') and len(word) > 3 and
                                     _mentions(text, word[:-1]))


def _engine_words(table: OptionTable, name: str) -> tuple[str, ...]:
    option = table.options[name]
    words = [name.replace('_', '-')] if '_' in name else []
    if option.read:
        words.append(option.read.rsplit('.', 1)[-1])
    return tuple(words)


def _cleaned(refusal: str) -> str:
    text = refusal
    for phrase in BOILERPLATE:
        text = re.sub(re.escape(phrase), ' ', text, flags=re.IGNORECASE)
    return text


def score(table: OptionTable, name: str, value: Any, refusal: str) -> float:
    """How surely ``refusal`` is about option ``name`` given ``value`` (0: not at all)."""
    text = _cleaned(refusal)
    if any(_mentions(text, word) for word in _engine_words(table, name)):
        named = NAME_SCORE
    else:
        words = _words(name)
        found = sum(1 for word in words if _says(text, word))
        named = WORDS_SCORE * found / len(words) + WORD_SCORE * found if words else 0.0
        # A short word of the name (too short to count: 'rt') the refusal does not say
        # at all, even between dots and underscores, weighs a little against it: of
        # cpu_period and cpu_rt_period, "CPU cfs period ..." is about the first.
        if named:
            named -= SHORT_WORD_PENALTY * sum(
                1 for w in name.split('_') if w not in COMMON_WORDS and len(w) < 3 and
                not re.search(rf'(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])', text.lower()))
    quoted = [p for p in _pieces(value) if _quotes(text, p)]
    best_quote = max((len(p) for p in quoted), default=0)
    return named + (VALUE_SCORE + min(best_quote, 50) / 100 if quoted else 0.0)


def blame(table: OptionTable, given: Mapping[str, Any], refusal: str) -> str | None:
    """The option of ``given`` (option name -> the value the blueprint gave) that
    ``refusal`` (the engine's own words, without the plugin's) is about; None when no
    option, or two equally, fit."""
    scores = sorted(((score(table, name, value, refusal), name) for name, value in given.items()
                     if name in table.options), reverse=True)
    if not scores or scores[0][0] == 0 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return None
    return scores[0][1]
