"""Fingerprints of values that may be secret: an HMAC under a random per-instance key.

A fingerprint tells whether a value changed without keeping the value. Secret
and Config objects are named after one (so a name on the engine lets nobody
test guesses of the value without the key), and a compose project keeps one
per service and key at ``up`` (so drift names what changed in its files,
interpolated secrets included, without storing them). The key is random, made
the first time it is needed and kept with the node instance (``_content_key``):
whoever can read that instance's runtime properties could test guesses of a
value against its fingerprint, as with any keyed hash kept beside its key; no
one else can, and no report shows a fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as random_secrets
from typing import Any

CHARS = 12  # hex characters kept: enough to tell a change, too few to be a value's hash


def new_key() -> str:
    return random_secrets.token_hex(16)


def fingerprint(data: bytes, key: str) -> str:
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()[:CHARS]


def of_value(value: Any, key: str) -> str:
    """The fingerprint of a JSON-shaped value (dictionaries in any key order)."""
    text = json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)
    return fingerprint(text.encode(), key)
