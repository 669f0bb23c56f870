"""The blueprint's inputs: compose variables, and every secret the compose file holds.

A value that was exactly one compose variable (``${APP_GREETING:-hello}``)
becomes a blueprint input of that name, with the value compose resolved as
its default. A secret is never written into the blueprint: ``secret_spans``
says where secrets sit (a secret-named key, a URL password, a secret flag or
assignment), ``file_secrets`` finds every one in the file before anything is
mapped, and each distinct secret becomes one input without a default (or
``get_secret`` with ``--secrets get_secret``) that every occurrence refers to:

* a secret variable's input has the variable's name; a literal given under the
  same name with the same value (an ``env_file`` beside the ``.env`` that
  interpolates the file) is that secret too;
* equal literal values are one secret (a database's ``POSTGRES_PASSWORD`` and
  its client's ``DB_PASSWORD`` must stay equal), named after the most telling
  place, a secret-named environment key (``<service>_<KEY>``);
* an environment entry holding one goes to ``secret_environment`` (the input,
  or a ``concat`` around it: ``postgresql://airflow:<input>@postgres/airflow``);
* anywhere else (commands, healthchecks, labels, build arguments, options)
  ``protect`` puts a ``concat`` around the input where the secret sits, and
  replaces a *distinctive* secret (not a plain word) wherever else it appears.

A plain-word secret (``airflow``, ``postgres``: development defaults chosen to
equal a user or database name) stays where it is a name; ``remarks`` say where.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from docker_plugin.importer import secret_spans as spans
from docker_plugin.importer.file_secrets import FileSecrets, Secret, variable_of

FUNCTIONS = ('get_input', 'get_secret', 'get_attribute', 'get_property')
ENVIRONMENTS = ('environment', 'secret_environment', 'env', 'secret_env')


class SecretInKey(ValueError):
    """A secret where no input can stand: a mapping's key."""


class Inputs:
    """The blueprint's inputs, shared by every service."""

    def __init__(self, secrets_mode: str = 'inputs'):
        self.secrets_mode = secrets_mode
        self.inputs: dict[str, dict[str, Any]] = {}
        self.secret_values: dict[str, str] = {}  # input name -> value seen (never written)
        self.found = FileSecrets()
        self.used: dict[str, Secret] = {}  # input name -> secret, once referred to

    # ------------------------------------------------------------------ inputs
    def add(self, name: str, default: Any = None, description: str = '',
            secret: bool = False) -> dict[str, Any]:
        """``{get_input: name}`` (``get_secret`` for a secret in get_secret mode). A
        name that is a secret anywhere never gets a default."""
        secret = secret or name in self.found.variables
        if secret and self.secrets_mode == 'get_secret':
            return {'get_secret': name.lower()}
        entry = self.inputs.setdefault(name, {'type': 'string'})
        if description and 'description' not in entry:
            entry['description'] = description
        if not secret and default is not None and 'default' not in entry:
            entry['default'] = str(default)
        return {'get_input': name}

    def refer(self, secret: Secret) -> dict[str, Any]:
        """The reference to one secret (its input declared on first use)."""
        self.used[secret.name] = secret
        self.secret_values[secret.name] = secret.value
        more = f' and {len(secret.places) - 3} more' if len(secret.places) > 3 else ''
        origin = f'${{{secret.name}}} in the compose file' if secret.variable else \
            f'{"a literal" if len(secret.places) == 1 else "one literal"} in ' \
            f'{", ".join(secret.places[:3])}{more}'
        return self.add(secret.name, description=f'secret ({origin}): not written here; give '
                                                 'it as an input or from get_secret', secret=True)

    # ------------------------------------------------------------------ mapping
    def environment(self, service: str, resolved: Mapping[str, Any],
                    raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(environment, secret_environment) of one service's container_config."""
        plain: dict[str, Any] = {}
        secret: dict[str, Any] = {}
        for name, value in resolved.items():
            if value is None:
                continue  # compose passes nothing for an unset variable
            text, variable = str(value), variable_of(raw.get(name))
            named = spans.secret_name(name) or bool(variable and spans.secret_name(variable))
            whole = named and not spans.not_secret(text, name)
            hidden = text if whole else self.protected(text, hint=f'{service}_{name}')
            if variable and (whole or hidden != text):
                known = self.found.variables.setdefault(variable, Secret(
                    text, [f'services.{service}.environment.{name}'], variable, 1,
                    variable=True))
                secret[name] = self.refer(known)
            elif whole:
                secret[name] = self.refer(self.found.lookup(text, f'{service}_{name}'))
            elif hidden != text:
                secret[name] = hidden
            elif variable:
                plain[name] = self.add(variable, text, f'compose variable ${{{variable}}}')
            else:
                plain[name] = text
        return plain, secret

    def protected(self, text: str, command: bool = False, key: str | None = None,
                  hint: str = 'secret') -> Any:
        """The text, or a ``concat`` around the inputs of the secrets it holds."""
        found = spans.in_text(text, command)
        if key is not None and spans.secret_name(key) and not spans.not_secret(text, key,
                                                                                 command):
            found = [(0, len(text))]
        for value in self._distinct():
            found += spans.occurrences(text, value)
        return self._pieces(text, spans.merge(found), hint)

    def _pieces(self, text: str, found: list[spans.Span], hint: str) -> Any:
        if not found:
            return text
        pieces: list[Any] = []
        last = 0
        for start, end in found:
            pieces += [text[last:start]] if start > last else []
            pieces.append(self.refer(self.found.lookup(text[start:end], hint)))
            last = end
        pieces += [text[last:]] if last < len(text) else []
        return pieces[0] if len(pieces) == 1 else {'concat': pieces}

    # ------------------------------------------------------------------ the rest
    def protect(self, value: Any, path: str = '', command: bool = False) -> Any:
        """Every secret left in nodes or outputs made an input (see the module)."""
        if isinstance(value, Mapping):
            if any(f in value for f in FUNCTIONS):
                return value
            if 'concat' in value:
                parts = [self.protect(p, path) for p in value['concat']]
                return {'concat': [q for p in parts for q in (
                    p['concat'] if isinstance(p, Mapping) and 'concat' in p else [p])]}
            out = {}
            for key, item in value.items():
                hidden = self.protected(str(key))
                if hidden != str(key):
                    shown = ''.join(p if isinstance(p, str) else '******'
                                    for p in hidden['concat']) if isinstance(hidden, dict) \
                        else '******'
                    raise SecretInKey(f'{path}.{shown}'.lstrip('.'))
                if key in ENVIRONMENTS:
                    out[key] = item  # mapped entry by entry by ``environment``
                    continue
                shell = key in ('command', 'entrypoint', 'test')
                out[key] = self.protect(item, f'{path}.{key}', shell) if not isinstance(
                    item, str) else self.protected(item, shell, str(key), _hint(path, key))
            return out
        if isinstance(value, list):
            if not command:
                return [self.protect(item, f'{path}[{i}]') for i, item in enumerate(value)]
            found = dict(spans.in_command(value))
            pieces: list[Any] = []
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    pieces.append(self.protect(item, f'{path}[{i}]', command))
                    continue
                extra = [s for v in self._distinct() for s in spans.occurrences(item, v)]
                named = [(a, b) for a, b, _ in found.get(i, [])]
                pieces.append(self._pieces(item, spans.merge(named + extra), _hint(path, i)))
            return pieces
        if isinstance(value, str):
            return self.protected(value, command, hint=_hint(path, ''))
        return value

    def _distinct(self) -> Iterator[str]:
        return (value for value in self.found.values() if spans.distinctive(value))

    def finish(self) -> list[str]:
        """No secret input keeps a default; an input whose default holds a secret becomes
        one. Returns remarks."""
        remarks = []
        for name, entry in self.inputs.items():
            secret = name in self.found.variables or name in self.used
            default = entry.get('default')
            if not secret and isinstance(default, str) and self.protected(default) != default:
                remarks.append(f'input {name}: its value holds a secret: no default written')
                secret = True
            if secret:
                entry.pop('default', None)
        return remarks

    def words_written(self, text_of: Mapping[str, str]) -> list[str]:
        """Remarks: where a plain-word secret in use is also written (as a name), by value
        (``text_of``: path -> string of the nodes, as ``strings`` gives them)."""
        by_value: dict[str, list[str]] = {}
        for name, secret in sorted(self.used.items()):
            if not spans.distinctive(secret.value):
                by_value.setdefault(secret.value, []).append(name)
        out = []
        for value, names in by_value.items():
            where = sorted({path.replace('.properties.', '.') for path, text in text_of.items()
                            if not re.search(r'\.relationships\[|\.name(\.|$)|\.get_', path)
                            and spans.occurrences(text, value)},
                           key=lambda p: (not re.search(r'environment|command|test', p), p))
            if where:
                more = f' and {len(where) - 5} more' if len(where) > 5 else ''
                out.append(f'input{"s" if len(names) > 1 else ""} {", ".join(names)}: a plain '
                           'word also written as a name, left as it is there: '
                           f'{", ".join(where[:5])}{more}')
        return out


def _hint(path: str, key: Any) -> str:
    return re.sub(r'\W+', '_', f'{path}.{key}'.strip('.')).strip('_') or 'secret'


def strings(value: Any, path: str = '') -> Iterator[tuple[str, str]]:
    """(path, text) of every string in nodes or outputs."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings(item, f'{path}.{key}'.lstrip('.'))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f'{path}[{index}]')
    elif isinstance(value, str):
        yield path, value
