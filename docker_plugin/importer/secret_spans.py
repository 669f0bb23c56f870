"""Where a secret sits in a compose value: by the name it is given, or by the text around it.

Three places say "this is a secret" whatever the value looks like:

* the value of a key whose name says so (``POSTGRES_PASSWORD``, ``SECRET_KEY``,
  ``AIRFLOW__CORE__FERNET_KEY``, ``API_TOKEN``...): environment entries, labels,
  build arguments, options, ``x-`` blocks;
* the password of a URL (``postgresql://user:PASSWORD@host/db``), in any string;
* in a command line (``command``, ``entrypoint``, a healthcheck's ``test``): the
  value of a flag whose name says so (``--password X``, ``--requirepass=X``); and
  anywhere an assignment whose name says so (``PGPASSWORD=X psql``,
  ``o: addr=h,password=X``, ``jdbc:...?password=X``).

A value is *not* secret, and is written as it is, when it is empty, a boolean
word (``true``, ``no``...), a path given to a ``*_FILE``/``*_PATH`` key
(``MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db``), or a reference to
expand (``$REDIS_PASSWORD``; in a command line also ``$(cat /run/secrets/x)``):
the secret is elsewhere then. Names whose last part says
they hold something else (``TOKEN_TTL``, ``AUTH_BACKENDS``, ``PASSWORD_LENGTH``)
are not secret names.
"""

from __future__ import annotations

import re
from typing import Any

Span = tuple[int, int]

SECRET_PARTS = frozenset({'PASSWORD', 'PASSWD', 'PASS', 'PWD', 'PW', 'PASSPHRASE', 'SECRET',
                          'SECRETS', 'TOKEN', 'CREDENTIAL', 'CREDENTIALS', 'APIKEY',
                          'AUTHKEY', 'PRIVATEKEY', 'BASICAUTH', 'HTPASSWD', 'REQUIREPASS',
                          'MASTERAUTH', 'MASTERPASS'})
SECRET_ENDINGS = ('PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'KEY')
# A last part that says the value is not the secret itself.
OTHER_TAILS = frozenset({
    'TTL', 'EXPIRY', 'EXPIRES', 'EXPIRATION', 'LENGTH', 'SIZE', 'TIMEOUT', 'ENABLED',
    'DISABLED', 'ENABLE', 'DISABLE', 'FILE', 'PATH', 'DIR', 'TYPE', 'METHOD', 'MODE',
    'BACKEND', 'BACKENDS', 'HOST', 'PORT', 'USER', 'USERNAME', 'NAME', 'ID', 'URL_PATH',
    'ALGORITHM', 'HEADER', 'PREFIX', 'FORMAT', 'LIFETIME', 'PROVIDER', 'POLICY', 'COUNT',
    'REQUIRED', 'INTERVAL', 'RESET', 'ISSUER', 'AUDIENCE', 'PUBLIC', 'PUBLICKEY'})
BOOLEAN_WORDS = frozenset({'true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null'})

URL_PASSWORD = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s\'"]*:(?P<secret>[^@/\s\'"]+)@')
ASSIGNMENT = re.compile(r'(?<![\w.$-])(?P<name>[A-Za-z_][\w.-]*)=(?P<q>[\'"]?)'
                        r'(?P<secret>[^\s,;&\'"]+)(?P=q)')
FLAG = re.compile(r'(?<![\w-])--?(?P<name>[A-Za-z][\w.-]*)(?:=|\s+)(?P<q>[\'"]?)'
                  r'(?P<secret>[^\s\'"]+)(?P=q)')
BARE_FLAG = re.compile(r'--?(?P<name>[A-Za-z][\w.-]*)')
ONE_REFERENCE = re.compile(r'\$\{?[A-Za-z_]\w*\}?')


def secret_name(name: Any) -> bool:
    """Whether a key, flag or variable name says its value is a secret."""
    parts = [p for p in re.split(r'[^A-Za-z0-9]+', str(name).upper()) if p]
    if not parts or parts[-1] in OTHER_TAILS or parts == ['PWD']:
        return False
    return any(p in SECRET_PARTS or p.endswith(SECRET_ENDINGS[:-1]) for p in parts) or \
        (parts[-1].endswith('KEY') and parts[-1] not in OTHER_TAILS)


def reference(value: str) -> bool:
    """A value the shell (or compose) expands: the secret is elsewhere."""
    return value.startswith('$') or '$(' in value or '${' in value or '`' in value


def not_secret(value: Any, name: Any = '', shell: bool = False) -> bool:
    """A value that is no secret whatever its key says (see the module's list); ``shell``:
    it is read by a shell, which expands references (an environment value is not)."""
    text = '' if value is None else str(value)
    tail = [p for p in re.split(r'[^A-Za-z0-9]+', str(name).upper()) if p][-1:]
    return text.strip() == '' or text.lower() in BOOLEAN_WORDS or \
        (reference(text) if shell else bool(ONE_REFERENCE.fullmatch(text))) or \
        (tail in (['FILE'], ['PATH'], ['DIR']) and text.startswith('/'))


def distinctive(value: str) -> bool:
    """A secret value that cannot be a name as well (``J5brHrAXFLQSif0K``, ``s3cr3t-99``),
    as opposed to a plain word (``airflow``, ``postgres``, ``my-app``): only such a value
    is looked for, and replaced, wherever it appears."""
    return len(value) >= 6 and not re.fullmatch(r'[A-Za-z]+|[a-z]+(?:[_.-][a-z]+)*', value)


def named_in_text(text: str, command: bool = False) -> list[tuple[int, int, str]]:
    """Secrets a string shows by its own text, with the name that says so (``''`` for a
    URL password): URL passwords, secret assignments, and (``command``) the values of
    secret flags."""
    found = [(*m.span('secret'), '') for m in URL_PASSWORD.finditer(text)]
    patterns = (ASSIGNMENT, FLAG) if command else (ASSIGNMENT,)
    for pattern in patterns:
        for match in pattern.finditer(text):
            if secret_name(match['name']) and not not_secret(match['secret'], match['name'],
                                                             shell=command):
                found.append((*match.span('secret'), match['name']))
    kept = merge([(a, b) for a, b, _ in found])
    return [next(f for f in found if f[:2] == span) for span in kept]


def in_text(text: str, command: bool = False) -> list[Span]:
    """Where ``named_in_text`` finds secrets."""
    return [(start, end) for start, end, _ in named_in_text(text, command)]


def in_command(items: list[Any]) -> list[tuple[int, list[tuple[int, int, str]]]]:
    """Secrets in a command given as a list: per item, its named spans (an item right after
    a bare secret flag, ``['--password', 'X']``, is one whole)."""
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            continue
        found = named_in_text(item, command=True)
        before = items[index - 1] if index else None
        flag = BARE_FLAG.fullmatch(before) if isinstance(before, str) else None
        if flag and secret_name(flag['name']) and not not_secret(item, flag['name'], True):
            found = [(0, len(item), flag['name'])]
        if found:
            out.append((index, found))
    return out


def occurrences(text: str, value: str) -> list[Span]:
    """Where a value appears in a text as a whole (not inside a longer word)."""
    found, start = [], 0
    while value and (index := text.find(value, start)) >= 0:
        end = index + len(value)
        if (index == 0 or not text[index - 1].isalnum()) and \
                (end == len(text) or not text[end].isalnum()):
            found.append((index, end))
        start = index + 1
    return found


def merge(spans: list[Span]) -> list[Span]:
    """Sorted, without overlaps (the earlier, then longer, span wins)."""
    out: list[Span] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if not out or start >= out[-1][1]:
            out.append((start, end))
    return out
