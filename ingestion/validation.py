"""Check every record of ``_in`` against the contract, type it and pseudonymize its PII.

Creates the temp table ``_checked``: the contract's typed columns, ``reason``/``detail`` (NULL
for a good record), ``event_key``, ``content_hash`` and a PII-masked ``raw`` for quarantine.
The SQL is generated from the contract, so a new field needs no code here.
"""

from __future__ import annotations

import duckdb

from eventlog.contract import BIGINT, MONEY, TIMESTAMP, EventType, Field
from eventlog.sql import quote_ident, quote_idents, quote_str
from ingestion.pseudonymize import WHITESPACE

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


# SQL's one-argument trim() removes spaces only: strip the whole set pseudonymization uses.
_WHITESPACE_SQL = quote_str(WHITESPACE)
# A value of the record starts or ends with whitespace: the fields are joined with a unit
# separator, and the pattern looks for whitespace next to one (or at either end).
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_EDGE_PATTERN = quote_str(f"(^|\\x{{1f}}){_SPACE_CLASS}|{_SPACE_CLASS}(\\x{{1f}}|$)")


def _edges(et: EventType, typed: frozenset[str]) -> str:
    """True for a record with a value to trim. trim() with a character set costs more than all
    the other checks of a field together, and few values need it: one test per record, then
    trim() only the values of the records that have one (the result is the same). Typed
    values have no text to trim."""
    fields = [f.name for f in et.fields if f.name not in typed]
    if not fields:
        return "false"
    return f"regexp_matches(concat_ws(chr(31), {quote_idents(fields)}), {_EDGE_PATTERN})"


def _text(f: Field, typed: frozenset[str]) -> str:
    """The trimmed text of a field, NULL when empty (``__edge``: see _edges); a typed value
    (see readers.py) as it is."""
    v = quote_ident(f.name)
    if f.name in typed:
        return v
    return f"nullif(case when __edge then trim({v}, {_WHITESPACE_SQL}) else {v} end, '')"


def _t(f: Field) -> str:
    return quote_ident(f"t__{f.name}")


def _p(f: Field) -> str:
    return quote_ident(f"p__{f.name}")


def _parsed(f: Field, typed: frozenset[str]) -> str:
    """The value typed, from its trimmed text; NULL if it does not parse. A value read with
    the contract's type already is the value its text would parse to."""
    t = _t(f)
    if f.name in typed:
        return t
    if f.type == BIGINT:
        return f"try_cast({t} as bigint)"
    if f.type == MONEY:
        return f"try_cast({t} as {MONEY})"
    if f.type == TIMESTAMP:
        return f"try_cast({t} as timestamptz)"
    if f.allowed:
        return f"lower({t})"
    if f.upper:
        return f"upper({t})"
    return t


def _clear(f: Field) -> str:
    """A PII value as it is pseudonymized: emails are trimmed (already) and lower-cased."""
    return f"lower({_p(f)})" if f.email else _p(f)


def _stored(f: Field) -> str:
    """What lands: the parsed value, or the pseudonym of a PII value."""
    return f"pseudonym({_clear(f)})" if f.pii else _p(f)


def _checks(et: EventType) -> list[tuple[str, str, str]]:
    """(condition on the text and parsed values, reason, detail), in the order tried."""
    checks = [("parse_error is not null", MALFORMED, "parse_error")]
    for f in et.fields:
        t, p, name = _t(f), _p(f), quote_str(f.name)
        if f.required:
            checks.append((f"{t} is null", MISSING, name))
        shown = f"{name} || ' = ' || cast({t} as varchar)"
        if f.type in (BIGINT, MONEY):
            checks.append((f"{t} is not null and {p} is null", BAD_NUMBER, shown))
        elif f.type == TIMESTAMP:
            checks.append(
                (
                    f"{t} is not null and ({p} is null or {p} < '{EARLIEST}' or {p} >= '{LATEST}')",
                    BAD_TIMESTAMP,
                    shown,
                )
            )
        elif f.allowed:
            allowed = ", ".join(quote_str(a) for a in f.allowed)
            checks.append((f"{t} is not null and {p} not in ({allowed})", BAD_ENUM, shown))
    return checks


def _canonical(f: Field) -> str:
    """Text of a stored value for keys and hashes; epoch micros are much cheaper than
    formatting a timestamp, and the same instant in any offset gives the same text."""
    if f.type == TIMESTAMP:
        return f"cast(epoch_us({quote_ident(f.name)}) as varchar)"
    return f"cast({quote_ident(f.name)} as varchar)"


def _masked_raw(et: EventType, raw_struct: bool) -> str:
    raw = "to_json(raw)::varchar" if raw_struct else "raw"
    pii = [f for f in et.fields if f.pii]
    pattern_masked = (
        f"regexp_replace(regexp_replace({raw}, {quote_str(_EMAIL_PATTERN)}, '<email>', 'g'),"
        f" {quote_str(_MEMBER_PATTERN)}, '<member>', 'g')"
    )
    if not pii:
        return raw
    patch = "json_object(" + ", ".join(f"{quote_str(f.name)}, {quote_ident(f.name)}" for f in pii) + ")"
    # json_merge_patch drops keys patched to null, so an absent PII field stays absent.
    return (
        f"case when parse_error is null then json_merge_patch({raw}, {patch})::varchar"
        f" else {pattern_masked} end"
    )


def check_into_temp(
    con: duckdb.DuckDBPyConnection, et: EventType, *, raw_struct: bool = False, file_column: bool = False
) -> None:
    """raw_struct: ``_in.raw`` is a STRUCT of the record's columns, not text (readers.py).
    file_column: ``_in`` holds several files, told apart by its column ``_file``, kept."""
    carry = "_file, " if file_column else ""
    # Fields a reader gave their contract type rather than text (typed Parquet columns).
    described = con.execute("select column_name, column_type from (describe _in)").fetchall()
    typed = et.fields_of_own_type(dict(described))
    checks = _checks(et)
    # Each condition is evaluated once: the first failing check's number picks reason and detail.
    failed = "case " + " ".join(f"when {c} then {i}" for i, (c, _, _) in enumerate(checks)) + " end"
    reason = "case failed " + " ".join(f"when {i} then '{r}'" for i, (_, r, _) in enumerate(checks)) + " end"
    detail = "case failed " + " ".join(f"when {i} then {d}" for i, (_, _, d) in enumerate(checks)) + " end"
    texts = ", ".join(f"{_text(f, typed)} as {_t(f)}" for f in et.fields)
    parsed = ", ".join(f"{_parsed(f, typed)} as {_p(f)}" for f in et.fields)
    stored = ", ".join(f"{_stored(f)} as {quote_ident(f.name)}" for f in et.fields)
    by_name = {f.name: f for f in et.fields}
    key = "concat_ws('|', " + ", ".join(_canonical(by_name[k]) for k in et.key) + ")"
    hashed = ", ".join(f"coalesce({_canonical(f)}, chr(0))" for f in et.fields)
    names = quote_idents(et.names)
    con.execute("drop table if exists _checked")
    # One pass, no join: each PII value is hashed where it stands. (Hashing each distinct value
    # once and joining back costs more than it saves: most member ids and emails of a file are
    # distinct, and the join needs the file materialized. A connection-wide cache of values
    # already hashed, joined in, saved nothing either: the hash join on the clear text costs
    # about what the HMAC it avoids does — SF10 audience and engagement files, 40 CPU-s each way.)
    con.execute(
        f"""
        create temp table _checked as
        with edged as (select *, {_edges(et, typed)} as __edge from _in),
        texts as (select {carry}source_line, raw, parse_error, extra, {texts} from edged),
        parsed as (select *, {parsed} from texts),
        judged as (select *, {failed} as failed from parsed),
        stored as (
            select {carry}source_line, raw, parse_error, extra, failed,
                   {reason} as reason, {detail} as detail, {stored}
            from judged
        )
        select {carry}source_line, parse_error, extra, reason, detail, {names},
               {key} as event_key,
               {content_hash(hashed)} as content_hash,
               -- only quarantined records keep their raw text: building it is not free
               case when reason is not null then {_masked_raw(et, raw_struct)} end as masked_raw
        from stored
        """
    )


def content_hash(fields: str) -> str:
    """One version of an event: the MD5 of its fields' canonical text and extra, as a 128-bit
    integer (16 bytes to store and compare, not 32 hex characters). The key fields are among
    the fields, so two records with one hash are one event in one version."""
    return f"md5_number(concat_ws(chr(31), {fields}, coalesce(extra, '')))"
