"""Check every record of ``_in`` against the contract, type it and pseudonymize its PII.

Creates the temp table ``_checked``: the contract's typed columns, ``reason``/``detail`` (NULL
for a good record), ``event_key``, ``content_hash`` and a PII-masked ``raw`` for quarantine.
The SQL is generated from the contract, so a new field needs no code here.
"""

from __future__ import annotations

import duckdb

from eventlog.contract import (
    BIGINT,
    CURRENCIES,
    CURRENCY_MINOR_UNITS,
    DEFAULT_MINOR_UNITS,
    DOUBLE,
    MONEY,
    RATE,
    TIMESTAMP,
    VARCHAR,
    EventType,
    Field,
)
from eventlog.sql import quote_ident, quote_idents, quote_str
from ingestion.erasure import PREVIOUS_PREFIX, previous_key_active
from ingestion.pseudonymize import WHITESPACE

# Quarantine reasons, the stable vocabulary that `reachloop status` groups by.
MALFORMED = "malformed_record"
MISSING = "missing_field"
BAD_NUMBER = "invalid_number"
BAD_TIMESTAMP = "invalid_timestamp"
BAD_ENUM = "invalid_enum"
BAD_CURRENCY = "invalid_currency"
OUT_OF_RANGE = "out_of_range"

# Timestamps outside this range are typos or epoch-zero defaults, not events.
EARLIEST, LATEST = "2000-01-01", "2100-01-01"

# Strict where the contract is strict: a timestamp names an instant only with its UTC offset
# (Z, or -14:00 … +14:00) after its time of day; a count is an integer written in decimal
# digits (12 and 12.0, not 1.5 or 0x10: DuckDB's cast would round one and read the other as hex).
WITH_OFFSET = "(?i)[0-9]:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?\\s*(z|utc|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)$"
INTEGER = "[+-]?[0-9]+(\\.0*)?"


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
    if f.type in (MONEY, RATE):
        return f"try_cast({t} as {f.type})"
    if f.type == DOUBLE:
        # 'NaN' and 'inf' parse as doubles but are no measurement
        return f"case when isfinite(try_cast({t} as double)) then try_cast({t} as double) end"
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
    """What lands: the parsed value, or the pseudonym of a PII value. A URL field loses its
    query string and fragment, allow-listed parameters aside; free text is then scanned for
    PII by pattern (_scrub_free_text)."""
    if f.pii:
        return f"pseudonym({_clear(f)})"
    if _is_url(f):
        return f"pii_url_query({_p(f)})"
    return _p(f)


def _is_url(f: Field) -> bool:
    return f.name == "url" or f.name.endswith("_url")


def _free_text(et: EventType) -> list[Field]:
    """The fields scanned for PII by pattern: every text field but PII fields (pseudonymized
    whole), enumerations and codes."""
    return [f for f in et.fields if f.type == VARCHAR and not (f.pii or f.allowed or f.upper)]


def _minor_units(currency: Field | None) -> str:
    """SQL: the decimals an amount in the record's currency may have."""
    if currency is None:
        return str(DEFAULT_MINOR_UNITS)
    cases = " ".join(f"when {quote_str(c)} then {n}" for c, n in sorted(CURRENCY_MINOR_UNITS.items()))
    return f"case upper({_p(currency)}) {cases} else {DEFAULT_MINOR_UNITS} end"


def _checks(et: EventType, typed: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    """(condition on the text and parsed values, reason, detail), in the order tried. A typed
    value (see readers.py) has no text to be strict about: its type says it all."""
    checks = [("parse_error is not null", MALFORMED, "parse_error")]
    for f in et.fields:
        t, p, name = _t(f), _p(f), quote_str(f.name)
        if f.required:
            checks.append((f"{t} is null", MISSING, name))
        shown = f"{name} || ' = ' || cast({t} as varchar)"
        text = f.name not in typed
        if f.type in (BIGINT, DOUBLE, MONEY, RATE):
            checks.append((f"{t} is not null and {p} is null", BAD_NUMBER, shown))
        if f.positive:
            checks.append((f"{p} <= 0", OUT_OF_RANGE, f"{shown} || ' (must be > 0)'"))
        if f.non_negative:
            checks.append((f"{p} < 0", OUT_OF_RANGE, f"{shown} || ' (must be >= 0)'"))
        if f.type == BIGINT and text:
            checks.append(
                (f"{t} is not null and not regexp_full_match({t}, '{INTEGER}')", BAD_NUMBER,
                 f"{shown} || ': not an integer'")
            )
        if f.type == MONEY and text:
            currency = et.get(f.currency) if f.currency else None
            units = _minor_units(currency)
            exact = f"try_cast({t} as decimal(38, 12))"
            in_currency = f" || coalesce(' ' || {_p(currency)}, '')" if currency else ""
            # round() takes its decimals as a constant: one branch per count in use (each cast
            # back, else CASE would give all branches the type of the one with fewest decimals)
            rounded = " ".join(
                f"when {n} then round({exact}, {n})::decimal(38, 12)"
                for n in sorted({*CURRENCY_MINOR_UNITS.values(), DEFAULT_MINOR_UNITS})
            )
            checks.append(
                (
                    f"{t} is not null and coalesce({exact} <> case {units} {rounded} end, true)",
                    BAD_NUMBER,
                    f"{shown}{in_currency} || ': more decimals than the currency has (' || {units} || ')'",
                )
            )
        bounds = [f"{p} < {f.minimum}"] if f.minimum is not None else []
        bounds += [f"{p} > {f.maximum}"] if f.maximum is not None else []
        if bounds:
            checks.append((f"{p} is not null and ({' or '.join(bounds)})", OUT_OF_RANGE, shown))
        if f.type == TIMESTAMP:
            checks.append(
                (
                    f"{t} is not null and ({p} is null or {p} < '{EARLIEST}' or {p} >= '{LATEST}')",
                    BAD_TIMESTAMP,
                    shown,
                )
            )
            if text:
                checks.append(
                    (
                        f"{t} is not null and not regexp_matches({t}, '{WITH_OFFSET}')",
                        BAD_TIMESTAMP,
                        f"{shown} || ': no valid UTC offset (Z, or -14:00 to +14:00)'",
                    )
                )
        elif f.allowed:
            allowed = ", ".join(quote_str(a) for a in f.allowed)
            checks.append((f"{t} is not null and {p} not in ({allowed})", BAD_ENUM, shown))
        elif f.iso_currency:
            checks.append((f"{t} is not null and {p} not in ({_CURRENCY_LIST})", BAD_CURRENCY, shown))
    parsed = {f.name: _p(f) for f in et.fields}
    for rule in et.rules:
        checks.append((rule.condition.format(**parsed), rule.reason, rule.detail.format(**parsed)))
    return checks


_CURRENCY_LIST = ", ".join(quote_str(c) for c in sorted(CURRENCIES))


def _canonical(f: Field) -> str:
    """Text of a stored value for keys and hashes; epoch micros are much cheaper than
    formatting a timestamp, and the same instant in any offset gives the same text."""
    if f.type == TIMESTAMP:
        return f"cast(epoch_us({quote_ident(f.name)}) as varchar)"
    return f"cast({quote_ident(f.name)} as varchar)"


def _raw_text(et: EventType, raw_struct: bool) -> str:
    """The quarantined record's text, a parsed record's PII fields as their pseudonyms (by
    name). Then _scrub_free_text scans it all: a parsed record by pattern (other columns,
    headers, nested keys); a record that could not be parsed has no fields to tell PII by:
    every word that might name a person is masked (pseudonymize.install_unparsed_mask)."""
    raw = "to_json(raw)::varchar" if raw_struct else "raw"
    pii = [f for f in et.fields if f.pii]
    if not pii:
        return raw
    patch = "json_object(" + ", ".join(f"{quote_str(f.name)}, {quote_ident(f.name)}" for f in pii) + ")"
    # json_merge_patch drops keys patched to null, so an absent PII field stays absent.
    return f"case when parse_error is null then json_merge_patch({raw}, {patch})::varchar else {raw} end"


def check_into_temp(
    con: duckdb.DuckDBPyConnection, et: EventType, *, raw_struct: bool = False, file_column: bool = False
) -> None:
    """raw_struct: ``_in.raw`` is a STRUCT of the record's columns, not text (readers.py).
    file_column: ``_in`` holds several files, told apart by its column ``_file``, kept."""
    carry = "_file, " if file_column else ""
    # Fields a reader gave their contract type rather than text (typed Parquet columns).
    described = con.execute("select column_name, column_type from (describe _in)").fetchall()
    typed = et.fields_of_own_type(dict(described))
    checks = _checks(et, typed)
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
    # While a key rotation re-lands deliveries: each PII field's pseudonym under the retired key
    # too, to recognize people erased under it (ingestion/erasure.py).
    active = any(f.pii for f in et.fields) and previous_key_active(con)
    previous = [
        f"pseudonym_previous({_clear(f)}) as {quote_ident(PREVIOUS_PREFIX + f.name)}"
        for f in et.fields if f.pii and active
    ]
    carried = "".join(f", {quote_ident(PREVIOUS_PREFIX + f.name)}" for f in et.fields if f.pii and previous)
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
                   {reason} as reason, {detail} as detail, {stored}{"".join(", " + x for x in previous)}
            from judged
        )
        select {carry}source_line, parse_error, extra, reason, detail, {names}{carried},
               {key} as event_key,
               {content_hash(hashed)} as content_hash,
               -- only quarantined records keep their raw text: building it is not free
               case when reason is not null then {_raw_text(et, raw_struct)} end as masked_raw,
               null::varchar[] as __scrubbed
        from stored
        """
    )
    _scrub_free_text(con, et, key, content_hash(hashed))


def _scrub_free_text(con: duckdb.DuckDBPyConnection, et: EventType, key: str, hashed: str) -> None:
    """PII denied by default: the free-text fields and ``extra`` (nested keys and values) of
    ``_checked``, and its quarantined records' raw text and detail, scanned by pattern
    (pseudonymize.pii_scrub), their key and hash computed again where a value changed.

    After the check, not in it: few values hold anything the patterns replace (one cheap
    regular expression per record finds them), while planning a call of the scan costs tens
    of milliseconds per call — so a file with none plans none."""
    fields = [quote_ident(f.name) for f in _free_text(et)] + ["extra"]
    suspect = f"pii_suspect(concat_ws(chr(31), {', '.join(fields)}))"
    suspects, quarantined = con.execute(
        f"select count(*) filter (where {suspect}), count(*) filter (where reason is not null) from _checked"
    ).fetchone()
    if suspects:
        con.execute(
            f"update _checked set __scrubbed = list_transform([{', '.join(fields)}], lambda v: pii_scrub(v))"
            f" where {suspect}"
        )
        assigned = ", ".join(f"{c} = __scrubbed[{i}]" for i, c in enumerate(fields, 1))
        con.execute(f"update _checked set {assigned} where __scrubbed is not null")
        con.execute(
            f"update _checked set event_key = {key}, content_hash = {hashed} where __scrubbed is not null"
        )
    if quarantined:
        con.execute(
            "update _checked set __scrubbed = list_transform([masked_raw, detail], lambda v: pii_scrub(v))"
            " where reason is not null"
        )
        con.execute(
            """
            update _checked set
                masked_raw = case when parse_error is null then __scrubbed[1]
                                  else pii_mask_words(__scrubbed[1]) end,
                detail = __scrubbed[2]
            where reason is not null
            """
        )


def content_hash(fields: str) -> str:
    """One version of an event: the MD5 of its fields' canonical text and extra, as a 128-bit
    integer (16 bytes to store and compare, not 32 hex characters). The key fields are among
    the fields, so two records with one hash are one event in one version."""
    return f"md5_number(concat_ws(chr(31), {fields}, coalesce(extra, '')))"
