"""Keyed pseudonyms for PII: HMAC-SHA256 of the value, truncated to 128 bits.

The same function runs in Python and as a DuckDB macro (so landing stays set-based); both
give the same pseudonym for the same value, which is what lets forms, CRM and rosters join.
Emails are trimmed and lower-cased first, so one person is one pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

PSEUDONYM_HEX_CHARS = 32
_BLOCK = 64  # SHA-256 block size in bytes


# Surrounding whitespace of any kind (tabs, newlines, no-break spaces, a byte-order mark):
# "bob@x.com\t" is the same person as "bob@x.com". Landing strips the same set in SQL
# (ingestion/validation.py), so Python and SQL pseudonyms agree.
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\ufeff"


def normalize_email(value: str) -> str:
    return value.strip(WHITESPACE).lower()


def pseudonym(value: str, key: bytes, *, email: bool = False) -> str:
    text = normalize_email(value) if email else value.strip(WHITESPACE)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def install_macro(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define ``pseudonym(v)`` for this connection only (a temp macro is never persisted)."""
    ipad, opad = _pads(key)
    con.execute(
        f"""
        create or replace temp macro pseudonym(v) as
        substr(sha256(unhex('{opad.hex()}') || unhex(sha256(unhex('{ipad.hex()}') || encode(v)))),
               1, {PSEUDONYM_HEX_CHARS})
        """
    )
