"""Check every record of ``_in`` against the contract, type it and pseudonymize its PII.

Creates the temp table ``_checked``: the contract's typed columns, ``reason``/``detail`` (NULL
for a good record), ``event_key``, ``content_hash`` and a PII-masked ``raw`` for quarantine.
The SQL is generated from the contract, so a new field needs no code here.
"""

from __future__ import annotations

import duckdb

from ingestion.contract import BIGINT, MONEY, TIMESTAMP, EventType, Field
from reachloop.sql import quote_ident, quote_str

# Quarantine reasons, the stable vocabulary that `reachloop status` groups by.
MALFORMED = "malformed_record"
MISSING = "missing_field"
BAD_NUMBER = "invalid_number"
BAD_TIMESTAMP = "invalid_timestamp"
BAD_ENUM = "invalid_enum"

# Timestamps outside this range are typos or epoch-zero defaults, not events.
EARLIEST, LATEST = "2000-01-01", "2100-01-01"

# A record that could not be parsed has no fields to mask by name: mask what looks like PII.
_EMAIL_PATTERN = r"[^\s,;\"'<>{}:]+@[^\s,;\"'<>{}]+"
_MEMBER_PATTERN = r"urn:li:(person|member):[A-Za-z0-9_-]+"


def _text(f: Field) -> str:
    return f"nullif(trim({quote_ident(f.name)}), '')"


def _typed(f: Field) -> str:
    v = _text(f)
    if f.type == BIGINT:
        return f"try_cast({v} as bigint)"
    if f.type == MONEY:
        return f"try_cast({v} as {MONEY})"
    if f.type == TIMESTAMP:
        return f"try_cast({v} as timestamptz)"
    if f.email:
        return f"pseudonym(lower({v}))"
    if f.pii:
        return f"pseudonym({v})"
    if f.allowed:
        return f"lower({v})"
    if f.upper:
        return f"upper({v})"
    return v


def _checks(et: EventType) -> list[tuple[str, str, str]]:
    """(condition on the text columns, reason, detail) in the order they are tried."""
    checks = [("parse_error is not null", MALFORMED, "parse_error")]
    for f in et.fields:
        v, name = _text(f), quote_str(f.name)
        if f.required:
            checks.append((f"{v} is null", MISSING, name))
        shown = f"{name} || ' = ' || {v}"
        if f.type == BIGINT:
            checks.append((f"{v} is not null and try_cast({v} as bigint) is null", BAD_NUMBER, shown))
        elif f.type == MONEY:
            checks.append((f"{v} is not null and try_cast({v} as {MONEY}) is null", BAD_NUMBER, shown))
        elif f.type == TIMESTAMP:
            ts = f"try_cast({v} as timestamptz)"
            checks.append(
                (
                    f"{v} is not null and ({ts} is null or {ts} < '{EARLIEST}' or {ts} >= '{LATEST}')",
                    BAD_TIMESTAMP,
                    shown,
                )
            )
        elif f.allowed:
            allowed = ", ".join(quote_str(a) for a in f.allowed)
            checks.append((f"{v} is not null and lower({v}) not in ({allowed})", BAD_ENUM, shown))
    return checks


def _masked_raw(et: EventType) -> str:
    pii = [f for f in et.fields if f.pii]
    pattern_masked = (
        f"regexp_replace(regexp_replace(raw, {quote_str(_EMAIL_PATTERN)}, '<email>', 'g'),"
        f" {quote_str(_MEMBER_PATTERN)}, '<member>', 'g')"
    )
    if not pii:
        return "raw"
    patch = "json_object(" + ", ".join(f"{quote_str(f.name)}, {quote_ident(f.name)}" for f in pii) + ")"
    # json_merge_patch drops keys patched to null, so an absent PII field stays absent.
    return (
        f"case when parse_error is null then json_merge_patch(raw, {patch})::varchar"
        f" else {pattern_masked} end"
    )


def check_into_temp(con: duckdb.DuckDBPyConnection, et: EventType) -> None:
    checks = _checks(et)
    reason = "case " + " ".join(f"when {c} then '{r}'" for c, r, _ in checks) + " end"
    detail = "case " + " ".join(f"when {c} then {d}" for c, _, d in checks) + " end"
    typed = ", ".join(f"{_typed(f)} as {quote_ident(f.name)}" for f in et.fields)
    key = "concat_ws('|', " + ", ".join(f"cast({quote_ident(k)} as varchar)" for k in et.key) + ")"
    hashed = ", ".join(f"coalesce(cast({quote_ident(n)} as varchar), chr(0))" for n in et.names)
    con.execute("drop table if exists _checked")
    con.execute(
        f"""
        create temp table _checked as
        with judged as (
            select source_line, raw, parse_error, extra, {reason} as reason, {detail} as detail,
                   {typed}
            from _in
        )
        select *, {key} as event_key,
               md5(concat_ws(chr(31), {hashed}, coalesce(extra, ''))) as content_hash,
               {_masked_raw(et)} as masked_raw
        from judged
        """
    )
