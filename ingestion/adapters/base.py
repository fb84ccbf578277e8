"""What every source adapter shares: the adapter shape, strict vendor-file reading, and the
SQL that cleans vendor values (amounts, currencies, local times) before the contract checks.

An adapter turns one vendor file (or one export folder, for CRMs whose objects only make sense
together) into one SQL select per event type it produces. Each select yields columns named
after contract fields; ``stage_in`` turns it into the uniform ``_in`` table that the shared
landing code checks, pseudonymizes and appends. Everything is set-based SQL over the vendor
file: no Python loop ever touches a row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from eventlog.contract import event_type_of
from eventlog.errors import ReachloopError
from eventlog.sql import quote_ident, quote_idents, quote_str


class SourceShapeError(ReachloopError):
    """A vendor file is not in the shape its format promises; nothing from it lands."""


# The options every format takes; an adapter may take more of its own (Adapter.options).
COMMON_OPTIONS = ("tz", "decimal", "token_param")


@dataclass(frozen=True)
class Options:
    """Per-source settings that a vendor file cannot tell us itself.

    tz:          IANA zone of timestamps written without an offset (CRM exports use the
                 account's zone); timestamps with an offset keep it.
    decimal:     ``point`` (1,234.50) or ``comma`` (1.234,50): how the export writes amounts.
    token_param: query parameter of a tracked link that carries the first-party token.
    own:         the adapter's own options (``Adapter.options`` names them): whose export a
                 file is, when it was taken, which column holds what …; read with ``get``.
    """

    tz: str = "UTC"
    decimal: str = "point"
    token_param: str = "rlt"
    own: tuple[tuple[str, str], ...] = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        return dict(self.own).get(name, default)

    @classmethod
    def parse(cls, text: str, own: Iterable[str] = ()) -> Options:
        """``tz=Europe/Berlin,decimal=comma`` → Options; names neither common nor the
        adapter's own (``own``), and bad values, fail."""
        own = tuple(own)
        common: dict[str, str] = {}
        specific: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, sep, value = item.partition("=")
            name, value = name.strip(), value.strip()
            if sep and name in COMMON_OPTIONS:
                common[name] = value
            elif sep and name in own:
                specific[name] = value
            else:
                known = ", ".join((*COMMON_OPTIONS, *own))
                raise ReachloopError(f"unknown format option {item!r} (known: {known})")
        options = cls(**common, own=tuple(sorted(specific.items())))
        if options.decimal not in ("point", "comma"):
            raise ReachloopError(f"decimal must be 'point' or 'comma', not {options.decimal!r}")
        return options


@dataclass
class Staged:
    """What an adapter made of a vendor file: a select per event type, and notes for the user
    about vendor records that are no events (deleted records, page views without a token)."""

    selects: dict[str, str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Adapter:
    name: str
    vendor: str
    produces: tuple[str, ...]  # event types, in landing order
    stage: Callable[[duckdb.DuckDBPyConnection, list[Path], Options], Staged]
    detect: Callable[[Path], bool]  # is this file unambiguously in this format?
    bundle: bool = False  # files of one export folder land together (CRM objects refer to each other)
    summary: str = ""
    options: tuple[str, ...] = ()  # the format's own options, beside COMMON_OPTIONS
    # How the ledger, the quarantine and the output name a file, where the vendor's own file
    # name carries PII (LinkedIn puts the member's name in it): a path without it.
    recorded_path: Callable[[Path], Path] | None = None
    # What a file's path says about it, for formats that read whose or when from it (a member's
    # folder, a date in the name): part of what identifies a landed unit, beside its bytes.
    path_says: Callable[[Path], str] | None = None


def file_name(path: Path) -> str:
    """``Adapter.path_says`` for formats that may read the day from the file's name."""
    return path.name


# --- reading vendor files -------------------------------------------------------------------


def read_csv_strict(
    con: duckdb.DuckDBPyConnection,
    paths: Path | list[Path],
    table: str,
    *,
    required: Iterable[str],
    optional: Iterable[str] = (),
) -> set[str]:
    """Read vendor CSV file(s) into temp ``table``: ``source_line``, ``source_file`` and the
    required and optional columns under their lower-cased, trimmed header names (an optional
    column a file lacks is NULL). Several files (overlapping exports) are stacked.

    Fails naming the missing columns, and the unexpected ones as a hint at a renamed column.
    Other columns are not read: they may hold PII that no rule here pseudonymizes.
    Returns the optional columns that at least one file has.
    """
    required, optional = list(required), list(optional)
    selects, found = [], set()
    for path in [paths] if isinstance(paths, Path) else paths:
        present = {c.strip().lower(): c for c in csv_header(con, path)}
        missing = [c for c in required if c not in present]
        if missing:
            unexpected = [c for c in present if c not in required and c not in optional]
            hint = f"; unexpected: {', '.join(unexpected)}" if unexpected else ""
            raise SourceShapeError(f"{path.name}: missing columns: {', '.join(missing)}{hint}")
        found |= {c for c in optional if c in present}
        columns = ", ".join(
            (quote_ident(present[c]) if c in present else "null::varchar") + f" as {quote_ident(c)}"
            for c in required + optional
        )
        # Line numbers count the header as line 1 (exact unless a quoted value spans lines).
        selects.append(
            f"select row_number() over () + 1 as source_line, {quote_str(path.name)} as source_file,"
            f" {columns} from read_csv({quote_str(str(path))}, all_varchar=true, header=true,"
            " quote='\"', escape='\"')"
        )
    con.execute(f"create or replace temp table {table} as {' union all '.join(selects)}")
    return found


@dataclass(frozen=True)
class Role:
    """One object's file in a CRM export folder, recognized by its header."""

    name: str
    table: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    marker: tuple[str, ...] = ()  # columns that identify the object (default: required)
    excludes: tuple[str, ...] = ()  # columns that another object has and this one has not

    def matches(self, header: set[str]) -> bool:
        return set(self.marker or self.required) <= header and not set(self.excludes) & header


def role_of(path: Path, roles: tuple[Role, ...]) -> Role | None:
    """The one role whose columns this CSV has, else None."""
    if not path.name.lower().endswith((".csv", ".tsv")):
        return None
    try:
        with duckdb.connect() as con:
            header = {c.strip().lower() for c in csv_header(con, path)}
    except duckdb.Error:
        return None
    matching = [r for r in roles if r.matches(header)]
    return matching[0] if len(matching) == 1 else None


def read_bundle(
    con: duckdb.DuckDBPyConnection, files: list[Path], roles: tuple[Role, ...]
) -> dict[str, set[str]]:
    """Read every file of an export folder into its role's table (an object exported twice is
    stacked); a role without files gets an empty table. Returns each present role's optional
    columns; a file that is no known object fails, naming the objects expected."""
    by_role: dict[str, list[Path]] = {r.name: [] for r in roles}
    for path in files:
        role = role_of(path, roles)
        if role is None:
            expected = "; ".join(f"{r.name}: {', '.join(r.marker or r.required)}" for r in roles)
            raise SourceShapeError(f"{path.name}: not a known export object (expected columns {expected})")
        by_role[role.name].append(path)
    found = {}
    for role in roles:
        if by_role[role.name]:
            found[role.name] = read_csv_strict(
                con, by_role[role.name], role.table, required=role.required, optional=role.optional
            )
        else:
            columns = ", ".join(f"null::varchar as {quote_ident(c)}" for c in role.required + role.optional)
            con.execute(
                f"create or replace temp table {role.table} as select null::bigint as source_line,"
                f" null::varchar as source_file, {columns} where false"
            )
    return found


def csv_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    rel = con.sql(
        f"select * from read_csv({quote_str(str(path))}, all_varchar=true, header=true) limit 0"
    )
    return list(rel.columns)


def read_json_lines(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """JSON Lines into temp ``table(source_line, doc json)``; a line that is no JSON object
    fails the file (an API pull is written by a program, so a broken line means a broken pull)."""
    con.execute(
        f"""
        create or replace temp table _lines as
        select row_number() over () as source_line, line
        from read_csv({quote_str(str(path))}, columns={{'line': 'VARCHAR'}}, header=false,
                      delim=E'\\x01', quote='', escape='', auto_detect=false)
        """
    )
    bad = con.execute(
        """
        select list(source_line order by source_line) from _lines
        where trim(line) <> '' and not coalesce(json_valid(line) and ltrim(line) like '{%', false)
        """
    ).fetchone()[0]
    if bad:
        raise SourceShapeError(f"{path.name}: line(s) {', '.join(map(str, bad[:5]))} are not JSON objects")
    con.execute(
        f"""
        create or replace temp table {table} as
        select source_line, line::json as doc from _lines where trim(line) <> '';
        drop table _lines
        """
    )


# --- building the uniform _in table ---------------------------------------------------------


def stage_in(con: duckdb.DuckDBPyConnection, event_type: str, select: str) -> None:
    """Create the view ``_in`` from an adapter's select: contract fields it yields are cast to text,
    the others are NULL; ``raw`` is the mapped record as JSON, keyed by contract field names,
    so that validation masks its PII by name before anything reaches the quarantine.
    The select must yield ``source_line`` and may yield ``extra`` (a JSON object)."""
    et = event_type_of(event_type)
    yielded = set(con.sql(f"select * from ({select}) limit 0").columns)
    unknown = yielded - set(et.names) - {"source_line", "extra"}
    if unknown:  # a typo in an adapter's mapping must not silently drop a field
        raise AssertionError(f"{event_type} select yields non-contract columns: {sorted(unknown)}")
    fields = [
        (f"cast({quote_ident(n)} as varchar)" if n in yielded else "null::varchar") + f" as {quote_ident(n)}"
        for n in et.names
    ]
    raw_pairs = ", ".join(f"{quote_str(n)}, {quote_ident(n)}" for n in et.names)
    # As the readers do: a null member and an absent one are the same fact; no empty object.
    extra = "nullif(json_merge_patch('{}', extra::json)::varchar, '{}')"
    if "extra" not in yielded:
        extra = "null::varchar"
    con.execute("drop view if exists _in")
    con.execute(
        f"""
        create temp view _in as
        with mapped as (
            select source_line::bigint as source_line, {", ".join(fields)}, {extra} as extra
            from ({select})
        )
        select source_line, json_object({raw_pairs})::varchar as raw, null::varchar as parse_error,
               {quote_idents(et.names)}, extra
        from mapped
        """
    )


# --- cleaning vendor values -----------------------------------------------------------------

# Currency spellings seen in CRM and spreadsheet exports → ISO 4217. A bare "$" is taken as US
# dollars (the CRMs default); exports in other dollar currencies write "CA$", "A$" or the code.
CURRENCY_ALIASES = {
    "$": "USD", "US$": "USD", "USD": "USD", "US DOLLAR": "USD", "DOLLAR": "USD",
    "€": "EUR", "EUR": "EUR", "EURO": "EUR", "EUROS": "EUR",
    "£": "GBP", "GBP": "GBP", "¥": "JPY", "JPY": "JPY",
    "CHF": "CHF", "FR": "CHF", "SFR": "CHF",
    "CA$": "CAD", "C$": "CAD", "CAD": "CAD", "A$": "AUD", "AU$": "AUD", "AUD": "AUD",
}

# An amount as the export's decimal convention writes it (thousands separators optional).
POINT_AMOUNT = r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?|-?[0-9]+(\.[0-9]+)?"
COMMA_AMOUNT = r"-?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?|-?[0-9]+(,[0-9]+)?"
# A time of day followed by Z or a numeric offset: the text names an instant.
WITH_OFFSET = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def install_cleaning_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Temp macros the adapters' SQL uses. A value they cannot clean is passed through
    unchanged, so that the contract checks quarantine it with its reason (never a silent NULL)."""
    aliases = ", ".join(f"({quote_str(k)}, {quote_str(v)})" for k, v in CURRENCY_ALIASES.items())
    con.execute(
        f"""
        create or replace temp table _currency_alias as
        select * from (values {aliases}) t(alias, code);

        -- Amount text → plain decimal text. Currency signs, letters and spaces (also the
        -- non-breaking and apostrophe thousands separators) go; then the export's decimal
        -- convention decides. A value that does not fit the convention is returned as is:
        -- '1.234,50' in a 'point' export is an error to see, not 1.2345 to sum.
        create or replace temp macro rl_amount(v, dec) as (
            with s as (select regexp_replace(trim(v), '[^0-9.,-]', '', 'g') as n)
            select case
                when v is null or trim(v) = '' then null
                when dec = 'point' and regexp_full_match(n, {quote_str(POINT_AMOUNT)})
                    then replace(n, ',', '')
                when dec = 'comma' and regexp_full_match(n, {quote_str(COMMA_AMOUNT)})
                    then replace(replace(n, '.', ''), ',', '.')
                else v
            end from s
        );

        -- Currency text (or, without one, the sign written in the amount cell) → ISO code.
        create or replace temp macro rl_currency(c, amount) as (
            with t as (
                select upper(trim(regexp_replace(coalesce(nullif(trim(c), ''),
                        regexp_extract(amount, '[^0-9.,\\s''-]+')), '\\.', '', 'g'))) as k
            )
            select case
                when k is null or k = '' then null
                else coalesce((select code from _currency_alias where alias = k), k)
            end from t
        );

        -- Timestamp text → timestamptz text. With an offset or Z it is an instant already;
        -- without one it is a wall-clock time in zone tz (the row's own zone if the export
        -- has one, else the format's). Text no pattern reads is returned as is.
        create or replace temp macro rl_time(v, tz) as (
            case
                when v is null or trim(v) = '' then null
                when regexp_matches(trim(v), {quote_str(WITH_OFFSET)})
                    then coalesce(try_cast(trim(v) as timestamptz)::varchar, v)
                else coalesce(
                    timezone(tz, coalesce(
                        try_cast(trim(v) as timestamp),
                        try_strptime(trim(v), ['%m/%d/%Y %I:%M %p', '%m/%d/%Y %H:%M', '%m/%d/%Y',
                                               '%d.%m.%Y %H:%M', '%d.%m.%Y']))
                    )::varchar, v)
            end
        );

        -- Epoch milliseconds (the LinkedIn API's timestamps) → timestamptz text.
        create or replace temp macro rl_epoch_ms(ms) as
            make_timestamptz(cast(ms as bigint) * 1000)::varchar;

        -- The first-party token of a tracked link: the value of query parameter p.
        create or replace temp macro rl_query_param(url, p) as
            nullif(url_decode(regexp_extract(url, '[?&]' || p || '=([^&#]*)', 1)), '');

        -- A URL without query string and fragment: those can carry emails and session ids.
        create or replace temp macro rl_url_path(url) as
            nullif(regexp_replace(trim(url), '[?#].*$', ''), '');

        -- A post's own id on its network, from its URL, so that every source describing one
        -- post (an advocacy platform, the member's analytics, an API) names it alike: a
        -- LinkedIn URN when the URL carries one (feed/update/urn:li:activity:N, or the
        -- posts/…-activity-N-xxxx form), else the URL without query string.
        create or replace temp macro rl_post_id(url) as (
            with u as (select url_decode(trim(url)) as v)
            select case
                when v is null or v = '' then null
                when regexp_matches(v, 'urn:li:(activity|share|ugcPost):[0-9]+')
                    then regexp_extract(v, 'urn:li:(activity|share|ugcPost):[0-9]+', 0)
                when regexp_matches(v, 'linkedin\\.com/.*activity-[0-9]+')
                    then 'urn:li:activity:' || regexp_extract(v, 'activity-([0-9]+)', 1)
                else rl_url_path(v)
            end from u
        );

        -- A LinkedIn member as a profile URL or a URN → one canonical text, before it is
        -- pseudonymized: URNs (urn:li:person:…, urn:li:member:…) as written; profile URLs
        -- as 'linkedin.com/in/<vanity name>', lower-cased, without scheme, country
        -- subdomain, trailing slash, query or fragment. Anything else as written (trimmed).
        -- A URL and a URN of one member cannot be matched without LinkedIn's help: they stay
        -- two ids (docs/sources.md says how a roster can carry both).
        create or replace temp macro rl_member_id(v) as (
            with t as (select trim(v) as s)
            select case
                when s is null or s = '' then null
                when regexp_matches(s, '^urn:li:[A-Za-z]+:')
                    then s
                when regexp_matches(lower(s), '^(https?://)?([a-z]{{2,3}}\\.|www\\.)?linkedin\\.com/in/[^/?#]+')
                    then 'linkedin.com/in/' || url_decode(regexp_extract(
                        lower(s), 'linkedin\\.com/in/([^/?#]+)', 1))
                else s
            end from t
        );
        """
    )


def csv_has_columns(path: Path, names: Iterable[str]) -> bool:
    """Does this CSV's header hold all these (lower-cased) column names? For detection."""
    if not path.name.lower().endswith((".csv", ".tsv")):
        return False
    try:
        with duckdb.connect() as con:
            header = {c.strip().lower() for c in csv_header(con, path)}
    except duckdb.Error:
        return False
    return set(names) <= header


def first_json_keys(path: Path) -> set[str]:
    """Keys of the first JSON object in a JSON Lines file (empty if it is none). For detection."""
    if not path.name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return set()
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    doc = json.loads(line)
                    return set(doc) if isinstance(doc, dict) else set()
    except (OSError, ValueError):
        return set()
    return set()
