"""Erasure: a person's rows taken out of the warehouse, and out of every later delivery.

A request names the person the way landing named them: an email, a member id (a bare id, a
URN or a profile URL) or the pseudonym itself. It is pseudonymized with the same keyed hash and
normalisation landing uses, and only the pseudonym is kept (``meta.erasure_requests``, as its
128-bit number). Then, in one transaction under the writer lock, set-based:

- every row of every table that mentions one of the pseudonyms anywhere in its text (any
  column, ``extra`` with its nested values, quarantined raw text and detail) is deleted: the
  log (``raw``), quarantine, and the tables dbt built (the build that follows recomputes them);
- the visitors whose only link was the person (a cookie whose form fills are all theirs) go
  with them: their clicks and form fills, and their pseudonyms are recorded too;
- the ledger keeps every batch reconciled: rows_read = landed + duplicate + quarantined +
  erased (``rows_erased``); the pseudonym in bookkeeping text (a file named after the person,
  a gate's example rows) becomes ``<erased>``.

Landing (``drop_erased``) drops a later delivery's rows that name an erased pseudonym, before
they land, and counts them in the batch's ``rows_erased``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote

import duckdb

from eventlog.contract import EVENT_TYPES, raw_table
from eventlog.errors import ReachloopError
from eventlog.settings import previous_pii_key
from eventlog.sql import quote_ident, quote_str
from ingestion.pseudonymize import PSEUDONYM_HEX_CHARS, WHITESPACE, install_pseudonym_macro, key_id, pseudonym

EMAIL, MEMBER_ID, PSEUDONYM, VISITOR = "email", "member_id", "pseudonym", "visitor"
ERASED = "<erased>"
_HEX = re.compile(f"[0-9a-f]{{{PSEUDONYM_HEX_CHARS}}}")
# A profile URL, as landing's scan and the adapters' rl_member_id read one.
_PROFILE = re.compile(r"(?i)^(?:https?://)?(?:[a-z]{2,3}\.|www\.)?linkedin\.com/(in|pub)/([^/?#\s]+)")
_URN = re.compile(r"(?i)^urn(?::|%3a)li(?::|%3a)[a-z_]+(?::|%3a)(.+)$")
# The member URN kinds a bare id is looked up under (the API's person, the older member).
_URN_KINDS = ("person", "member")


def identifier_texts(kind: str, value: str) -> list[str]:
    """The texts landing may have pseudonymized for this person: an email lower-cased; a
    member id as written, and as the other spellings of the same id — a bare id and its
    ``urn:li:person:``/``urn:li:member:`` URNs, a profile URL as ``linkedin.com/in/<vanity
    name>`` (the canonical text the adapters and the scan use). A URN and a profile URL of one
    member cannot be derived from each other (docs/sources.md): give both when both exist."""
    text = value.strip(WHITESPACE)
    if not text:
        raise ReachloopError(f"an empty {kind.replace('_', ' ')} names nobody")
    if kind == EMAIL:
        if "@" not in text:
            raise ReachloopError(f"{value!r} is not an email address")
        return [text.lower()]
    if kind != MEMBER_ID:
        raise ReachloopError(f"unknown identifier kind {kind!r}")
    texts = [text]
    if profile := _PROFILE.match(text):
        texts.append(f"linkedin.com/{profile.group(1).lower()}/{unquote(profile.group(2).lower())}")
    else:
        bare = urn.group(1) if (urn := _URN.match(text)) else text
        texts += [bare, *(f"urn:li:{k}:{bare}" for k in _URN_KINDS)]
        if urn:  # as the scan reads a URL-encoded URN
            texts.append(re.sub("(?i)%3a", ":", text))
    return list(dict.fromkeys(texts))


def request_pseudonyms(kind: str, value: str, key: bytes | None) -> list[str]:
    """The pseudonyms one identifier names; ``--pseudonym`` needs no key."""
    if kind == PSEUDONYM:
        text = value.strip(WHITESPACE).lower()
        if not _HEX.fullmatch(text):
            raise ReachloopError(
                f"{value!r} is not a pseudonym ({PSEUDONYM_HEX_CHARS} hexadecimal characters)"
            )
        return [text]
    if key is None:
        raise ReachloopError("erasing by email or member id needs REACHLOOP_PII_KEY (the key landing used)")
    return [pseudonym(t, key) for t in identifier_texts(kind, value)]


@dataclass
class ErasureResult:
    request_id: str
    pseudonyms: dict[str, str]  # pseudonym → the kind of identifier it came from
    dry_run: bool
    # relation → rows erased (or, in a dry run, that would be)
    tables: dict[str, int] = field(default_factory=dict)
    batches: int = 0  # ledger rows whose rows_erased grew
    visitors: int = 0  # visitors whose only link was the person
    already_requested: bool = False

    @property
    def rows_erased(self) -> int:
        """Rows of the log and quarantine (what the ledger counts; dbt's tables are rebuilt)."""
        return sum(n for t, n in self.tables.items() if t.startswith(("raw.", "meta.quarantine")))

    def as_dict(self) -> dict:
        return {**asdict(self), "rows_erased": self.rows_erased}


# --- matching text ---------------------------------------------------------------------------

# Column types that hold no text (a pseudonym is text: it can hide only in the others, lists,
# structs and JSON included, which are matched on their text).
_NOT_TEXT = re.compile(
    r"^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|DECIMAL.*|DATE|TIME.*|TIMESTAMP.*|INTERVAL|UUID|BLOB|BIT)$"
)


def _pattern(pseudonyms: list[str], clear: list[str] = ()) -> str:
    """One regular expression for the pseudonyms, and the clear texts (escaped) if any."""
    for p in pseudonyms:
        if not _HEX.fullmatch(p):
            raise ReachloopError(f"not a pseudonym: {p!r}")
    return "(?i)" + "|".join([*sorted(set(pseudonyms)), *(re.escape(c) for c in sorted(set(clear)))])


def clear_texts(kind: str, value: str) -> list[str]:
    """The clear texts of an identifier that are distinctive enough to look for as they are
    (an email, a URN, a profile URL; not a bare id, which could be part of anything): a
    warehouse landed before PII was scanned by pattern may hold them in clear, in ``extra``."""
    if kind not in (EMAIL, MEMBER_ID):
        return []
    return [t for t in identifier_texts(kind, value) if len(t) >= 8 and re.search("[@:/]", t)]


def mentions(columns: list[str], pattern: str) -> str:
    """SQL: true when any of the columns' text holds one of the pseudonyms."""
    if not columns:
        return "false"
    text = ", ".join(f"cast({c} as varchar)" for c in columns)
    return f"coalesce(regexp_matches(concat_ws(chr(31), {text}), {quote_str(pattern)}), false)"


def _text_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns()"
        " where database_name = current_database() and schema_name = ? and table_name = ?"
        " order by column_index",
        [schema, table],
    ).fetchall()
    return [quote_ident(name) for name, dtype in rows if not _NOT_TEXT.match(dtype.upper())]


def _erased_hexes(
    con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...] | None = None, *, previous: bool = False
) -> list[str]:
    """The erased pseudonyms (as text) made with this landing's key (or of a request without a
    key id, taken as this key's), of some kinds; ``previous``: those of the retired key."""
    keys = _keys(con)
    if previous and not keys[1]:
        return []
    where = "key_id = $1" if previous else "(key_id is null or key_id = $1 or $1 is null)"
    rows = con.execute(
        f"select distinct printf('%032x', pseudonym) from meta.erasure_requests where {where}"
        " and ($2::varchar[] is null or list_contains($2::varchar[], kind))",
        [keys[1] if previous else keys[0], list(kinds) if kinds else None],
    ).fetchall()
    return [r[0] for r in rows]


# --- keys: a rotation carries erasures over -------------------------------------------------

PREVIOUS_PREFIX = "prev__"


def install_erasure_keys(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Before landing: which key this landing pseudonymizes with, and the retired one (and its
    macro ``pseudonym_previous``) while a key rotation re-lands deliveries."""
    previous = previous_pii_key()
    if previous == key:
        previous = None
    # erased: whether anyone was (a landing holds the writer lock: no erasure comes meanwhile),
    # so that landing costs one lookup per file while nobody was.
    con.execute(
        "create or replace temp table _erasure_keys as"
        " select ?::varchar as current_id, ?::varchar as previous_id,"
        " exists(select 1 from meta.erasure_requests) as erased",
        [key_id(key), previous and key_id(previous)],
    )
    if previous:
        install_pseudonym_macro(con, previous, "pseudonym_previous")


def _keys(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    try:
        row = con.execute("select current_id, previous_id from _erasure_keys").fetchone()
    except duckdb.CatalogException:
        return None, None
    return (row[0], row[1]) if row else (None, None)


def _anyone_erased(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        row = con.execute("select erased from _erasure_keys").fetchone()
    except duckdb.CatalogException:  # not prepared for landing: look
        row = con.execute("select exists(select 1 from meta.erasure_requests)").fetchone()
    return bool(row and row[0])


def previous_key_active(con: duckdb.DuckDBPyConnection) -> bool:
    """Is a key being retired, and was anyone erased under it? (Then landing hashes PII fields
    under it too.)"""
    previous = _keys(con)[1]
    return bool(previous) and bool(
        con.execute("select count(*) from meta.erasure_requests where key_id = ?", [previous]).fetchone()[0]
    )


def carry_over(con: duckdb.DuckDBPyConnection, old_warehouse: str, old_key: str) -> int:
    """Copy another home's erasure requests into this one (a key rotation's new home); a
    request without a key id was made under ``old_key`` (a fingerprint). Returns rows copied."""
    con.execute(f"attach {quote_str(old_warehouse)} as _old (read_only)")
    try:
        return con.execute(
            """
            insert into meta.erasure_requests
            select request_id, pseudonym, kind, reason, requested_at, rows_erased, coalesce(key_id, ?)
            from _old.meta.erasure_requests
            where (pseudonym, coalesce(key_id, ?)) not in
                  (select (pseudonym, key_id) from meta.erasure_requests where key_id is not null)
            """,
            [old_key, old_key],
        ).fetchone()[0]
    finally:
        con.execute("detach _old")


def recorded_pseudonyms(con: duckdb.DuckDBPyConnection, key: str | None) -> dict[str, str]:
    """Every pseudonym erased under this key (or without a key id): pseudonym → kind."""
    return dict(
        con.execute(
            "select printf('%032x', pseudonym), min(kind) from meta.erasure_requests"
            " where key_id is null or key_id = ? or ?::varchar is null group by all",
            [key, key],
        ).fetchall()
    )


def _as_number(hex_text: str) -> str:
    return f"('0x' || {hex_text})::uhugeint"


# --- erasing from the warehouse -----------------------------------------------------------


def _visitor_types() -> list[str]:
    return [name for name, et in EVENT_TYPES.items() if "visitor_id" in et.names]


def erase(
    con: duckdb.DuckDBPyConnection,
    pseudonyms: dict[str, str],
    *,
    reason: str | None = None,
    dry_run: bool = False,
    key_installed: bool = False,
    key: str | None = None,
    clear: list[str] = (),
) -> ErasureResult:
    """Remove every row that names one of ``pseudonyms`` (pseudonym → kind of identifier:
    one person, named by all the identifiers the request gave) from the warehouse, in one
    transaction (nothing, with ``dry_run``: counts only). ``key_installed``: the connection
    has the ``pseudonym`` macro (ingestion.pseudonymize.install_macro), so the pseudonyms of
    the erased visitors are recorded for later deliveries too. ``key``: the fingerprint of the
    key the pseudonyms are made with (pseudonymize.key_id), recorded with them. ``clear``:
    the clear texts to look for too (clear_texts), never recorded."""
    pattern = _pattern(list(pseudonyms), list(clear))
    result = ErasureResult(uuid.uuid4().hex[:12], dict(sorted(pseudonyms.items())), dry_run)
    result.already_requested = bool(
        con.execute(
            "select count(*) from meta.erasure_requests where list_contains(?, printf('%032x', pseudonym))",
            [list(result.pseudonyms)],
        ).fetchone()[0]
    )
    con.execute("begin transaction")
    try:
        _find(con, pattern, result)
        if dry_run:
            con.execute("rollback")
            return result
        _delete(con, pattern, result, reason=reason, key_installed=key_installed, key=key)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists _erase_hits; drop table if exists _erase_visitors")
    return result


def _find(con: duckdb.DuckDBPyConnection, pattern: str, result: ErasureResult) -> None:
    """_erase_visitors (visitor ids whose every form fill names the person) and _erase_hits
    (relation, batch_id, rows): what goes, per table and batch."""
    person = mentions(_text_columns(con, "raw", "form_fill"), pattern)
    con.execute(
        f"""
        create or replace temp table _erase_visitors as
        select distinct visitor_id from raw.form_fill where {person} and visitor_id is not null
        except
        select distinct visitor_id from raw.form_fill where not {person} and visitor_id is not null
        """
    )
    result.visitors = con.execute("select count(*) from _erase_visitors").fetchone()[0]
    con.execute("create or replace temp table _erase_hits (relation varchar, batch_id varchar, n bigint)")
    for name in EVENT_TYPES:
        con.execute(
            f"insert into _erase_hits select ?, batch_id, count(*) from {raw_table(name)}"
            f" where {_raw_condition(con, name, pattern)} group by batch_id",
            [f"raw.{name}"],
        )
    con.execute(
        "insert into _erase_hits select 'meta.quarantine', batch_id, count(*) from meta.quarantine"
        f" where {mentions(['raw', 'detail'], pattern)} group by batch_id"
    )
    for schema, table in _built_tables(con):
        relation = f"{quote_ident(schema)}.{quote_ident(table)}"
        con.execute(
            f"insert into _erase_hits select ?, null, count(*) from {relation}"
            f" where {mentions(_text_columns(con, schema, table), pattern)} having count(*) > 0",
            [f"{schema}.{table}"],
        )
    result.tables = dict(
        con.execute("select relation, sum(n)::bigint from _erase_hits group by all order by all").fetchall()
    )
    result.batches = con.execute(
        "select count(distinct batch_id) from _erase_hits where batch_id is not null"
    ).fetchone()[0]


def _raw_condition(con: duckdb.DuckDBPyConnection, name: str, pattern: str) -> str:
    condition = mentions(_text_columns(con, "raw", name), pattern)
    if name in _visitor_types():
        condition += " or visitor_id in (select visitor_id from _erase_visitors)"
    return condition


def _built_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every base table outside the log and its bookkeeping: dbt's models (the build after the
    erasure rebuilds them; deleting here leaves nothing behind even in a table no model owns)."""
    return con.execute(
        "select schema_name, table_name from duckdb_tables()"
        " where database_name = current_database() and not temporary"
        " and schema_name not in ('raw', 'meta') order by all"
    ).fetchall()


def _delete(
    con: duckdb.DuckDBPyConnection, pattern: str, result: ErasureResult, *,
    reason: str | None, key_installed: bool, key: str | None,
) -> None:
    for name in EVENT_TYPES:
        con.execute(f"delete from {raw_table(name)} where {_raw_condition(con, name, pattern)}")
    con.execute(f"delete from meta.quarantine where {mentions(['raw', 'detail'], pattern)}")
    for schema, table in _built_tables(con):
        relation = f"{quote_ident(schema)}.{quote_ident(table)}"
        con.execute(f"delete from {relation} where {mentions(_text_columns(con, schema, table), pattern)}")
    # The ledger: what left each batch, landed or quarantined, is counted as erased.
    con.execute(
        """
        update meta.batches b set
            rows_landed = b.rows_landed - h.landed,
            rows_quarantined = b.rows_quarantined - h.quarantined,
            rows_erased = coalesce(b.rows_erased, 0) + h.landed + h.quarantined
        from (
            select batch_id,
                   coalesce(sum(n) filter (where relation like 'raw.%'), 0) as landed,
                   coalesce(sum(n) filter (where relation = 'meta.quarantine'), 0) as quarantined
            from _erase_hits where batch_id is not null group by batch_id
        ) h
        where b.batch_id = h.batch_id
        """
    )
    # The pseudonym in bookkeeping text: a file named after the person, a gate's example rows,
    # a build's error, a decision's reason.
    for table, columns in _BOOKKEEPING_TEXT.items():
        assigned = ", ".join(
            f"{c} = regexp_replace({c}, {quote_str(pattern)}, {quote_str(ERASED)}, 'g')" for c in columns
        )
        con.execute(f"update meta.{table} set {assigned} where {mentions(columns, pattern)}")
    kinds = list(result.pseudonyms.items())
    if key_installed:
        kinds += [
            (v, VISITOR)
            for (v,) in con.execute("select pseudonym(visitor_id) from _erase_visitors").fetchall()
        ]
    _record(con, result.request_id, kinds, reason, result.rows_erased, key)


def _record(
    con: duckdb.DuckDBPyConnection, request_id: str, kinds: list[tuple[str, str]], reason: str | None,
    rows_erased: int, key: str | None,
) -> None:
    """Request rows for the (pseudonym, kind) pairs not recorded yet."""
    con.execute(
        "insert into meta.erasure_requests"
        " select ?, ('0x' || p)::uhugeint, k, ?, get_current_timestamp(), ?, ?"
        " from (select unnest(?::varchar[]) as p, unnest(?::varchar[]) as k)"
        " where ('0x' || p)::uhugeint not in (select pseudonym from meta.erasure_requests)",
        [request_id, reason, rows_erased, key, [p for p, _ in kinds], [k for _, k in kinds]],
    )


_BOOKKEEPING_TEXT = {
    "batches": ["file_path"],
    "quarantine": ["file_path"],
    "gate_results": ["target", "observed", "examples"],
    "builds": ["error"],
    "batch_events": ["reason"],
}


# --- later deliveries -------------------------------------------------------------------------


def drop_erased(con: duckdb.DuckDBPyConnection, text_columns: list[str], *, visitor: bool,
                file_column: bool = False) -> dict[int, int]:
    """Before a delivery lands: delete the records of ``_checked`` that name an erased person
    (in any of ``text_columns``, quarantined text included; or whose visitor was erased).
    Returns rows dropped per file (``_file``, 0 without file_column). Costs one query while
    nobody was ever erased."""
    if not _anyone_erased(con):
        return {}
    if _keys(con)[1]:
        _translate_previous(con)
    hexes = _erased_hexes(con, (EMAIL, MEMBER_ID, PSEUDONYM))
    visitors = _erased_hexes(con, (VISITOR,)) if visitor else []
    if not hexes and not visitors:
        return {}
    conditions = [mentions(text_columns, _pattern(hexes))] if hexes else []
    if visitors:
        conditions.append(
            f"visitor_id is not null and {_as_number('pseudonym(visitor_id)')}"
            f" in (select {_as_number('unnest(?::varchar[])')})"
        )
    condition = " or ".join(f"({c})" for c in conditions)
    params = [visitors] if visitors else []
    part = "_file" if file_column else "0"
    found = f"select {part}, count(*) from _checked where {condition} group by all"
    counts = dict(con.execute(found, params).fetchall())
    if counts:
        con.execute(f"delete from _checked where {condition}", params)
    return counts


def _translate_previous(con: duckdb.DuckDBPyConnection) -> None:
    """A key rotation's re-landing: records whose PII field, hashed under the retired key, is
    an erased pseudonym name that person; their field's pseudonym under the new key is
    recorded as a request of its own (so drop_erased drops them, and every later record)."""
    columns = [c for (c,) in con.execute("select column_name from (describe _checked)").fetchall()]
    previous = [c for c in columns if c.startswith(PREVIOUS_PREFIX)]
    old = _erased_hexes(con, (EMAIL, MEMBER_ID, PSEUDONYM), previous=True) if previous else []
    old_visitors = _erased_hexes(con, (VISITOR,), previous=True) if "visitor_id" in columns else []
    if not old and not old_visitors:
        return
    current, _ = _keys(con)
    pairs = [
        f"select {quote_ident(c.removeprefix(PREVIOUS_PREFIX))} as p,"
        f" {quote_str(EMAIL if 'email' in c else MEMBER_ID)} as k from _checked"
        f" where {quote_ident(c)} in (select unnest($1::varchar[]))"
        for c in previous
    ]
    if old_visitors:  # a visitor erased with the person: its new pseudonym too
        pairs.append(
            f"select pseudonym(visitor_id) as p, {quote_str(VISITOR)} as k from _checked"
            " where pseudonym_previous(visitor_id) in (select unnest($2::varchar[]))"
        )
    union = " union all ".join(pairs)
    found = con.execute(
        f"select distinct p, k from ({union}) where p is not null and $1 is not null and $2 is not null",
        [old, old_visitors],
    ).fetchall()
    if found:
        _record(con, uuid.uuid4().hex[:12], found, "carried over from the retired key", 0, current)
