"""Keyed pseudonyms for PII: HMAC-SHA256 of the value, truncated to 128 bits.

The same function runs in Python and as a DuckDB macro (so landing stays set-based); both
give the same pseudonym for the same value, which is what lets forms, CRM and rosters join.
Emails are trimmed and lower-cased first, so one person is one pseudonym.

PII is denied by default: besides the contract's PII fields (pseudonymized whole, by name),
every other string that lands — text fields, ``extra`` with its nested keys and values, URLs,
quarantined raw text, file paths — is scanned by pattern (``pii_scrub``, set-based SQL):

- a URL (``http(s)://…``, ``www.…``) loses its query string and fragment, except the
  allow-listed parameters (``ALLOWED_QUERY_PARAMS``: the tracking token, UTM parameters);
- a LinkedIn profile URL (``linkedin.com/in/<vanity name>``, ``/pub/``) becomes the pseudonym
  of its canonical text (``linkedin.com/in/<vanity name>``, lower-cased, URL-decoded: the text
  the adapters' ``rl_member_id`` pseudonymizes);
- an email (also written ``%40`` for ``@``) becomes the pseudonym of it lower-cased: the
  pseudonym an email field gets, so that joins on it still work;
- a LinkedIn member URN (``urn:li:person:…``, ``member``, ``fsd_profile`` …, also
  URL-encoded) or member id (``ACoAA…``) becomes the pseudonym of it as written;
- a phone number (international, ``+`` and 7–15 digits with spaces, dots, dashes or
  parentheses; or North American, ``(555) 123-4567``, ``555-123-4567``) becomes the pseudonym
  of its ``+`` and digits.

What the patterns spare: ids such as ``emp-7`` or ``rl-019fa86c``, tracking tokens, share,
activity, post and organization URNs, timestamps, amounts and counts, URLs without query
string. What no pattern can see (a name, an opaque member id in an unknown column) is not
found: only the contract's PII fields are pseudonymized whole, by name.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import duckdb

from eventlog.sql import quote_str

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


# --- PII by pattern (RE2, as DuckDB's regexp functions read it) -----------------------------

# Query parameters a URL keeps: the tracking token (read into tracking_token before this) and
# the UTM parameters. Every other parameter, and every fragment, is dropped.
ALLOWED_QUERY_PARAMS = (
    "rlt", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id",
)

# Characters that end an email's local part or domain (whitespace incl. no-break space, BOM
# and the unit separator, quotes, brackets, separators of CSV, JSON, URLs and prose).
_STOP = "\\s\\x{a0}\\x{feff}\\x{1f}@,;:\"'<>()\\[\\]{}\\\\/=&?|*!#$^~`"
_LABEL = f"[^{_STOP}%.+]+"
EMAIL_PATTERN = f"[^{_STOP}]+(?:@|%40){_LABEL}(?:\\.{_LABEL})*"
URL_PATTERN = "(?i:\\bhttps?://|\\bwww\\.)[^\\s\\x{1f}\"'<>\\\\,]+"
PROFILE_PATTERN = (
    "(?i:(?:https?://)?(?:[a-z]{2,3}\\.|www\\.)?linkedin\\.com/(?:in|pub)/)[^/?#\\s\\x{1f}\"'<>\\\\,;]+"
)
MEMBER_PATTERN = (
    "(?i:urn(?::|%3a)li(?::|%3a)(?:person|member|fsd_profile|fs_profile|fs_miniprofile"
    "|fsd_miniprofile)(?::|%3a))[A-Za-z0-9_-]+|\\bACoAA[A-Za-z0-9_-]{6,}"
)
PHONE_PATTERN = (
    "\\+[0-9](?:[ ./()-]{0,2}[0-9]){6,14}"
    "|\\(?\\b[0-9]{3}\\)?[ .-]{1,2}[0-9]{3}[ .-][0-9]{4}\\b"
)
# One pass finds them all: at a position where several could start, the first listed wins
# (RE2 alternation is leftmost-first), so a profile URL is not read as an email or a phone.
PERSON_PATTERN = "|".join(f"(?:{p})" for p in (PROFILE_PATTERN, EMAIL_PATTERN, MEMBER_PATTERN, PHONE_PATTERN))
# A query string or fragment with anything beyond the allow-listed parameters: a parameter
# whose name does not start like one of them (a prefilter: a few more pass, none less).
_QUERY_TO_DROP = "(?i)#|[?&](?:[^ur&#]|u(?:[^t]|t[^m]|tm[^_])|r(?:[^l]|l[^t]|lt[^=]))"
# A cheap first look: a value matching none of these holds nothing the patterns replace.
_ANY_PATTERN = (
    "(?i)@|%40|urn(?::|%3a)li(?::|%3a)(?:person|member|fsd?_)|acoaa|linkedin\\.com/(?:in|pub)/|\\+[0-9]"
    "|[0-9]{3}\\)?[ .-]{1,2}[0-9]{3}[ .-][0-9]{4}"
    f"|(?:https?://|www\\.)[^\\s\\x{{1f}}\"'<>\\\\,]*(?:{_QUERY_TO_DROP.removeprefix('(?i)')})"
)


def _each_match(pattern: str, replacement: str) -> str:
    """SQL lambda body over ``x``: every match of ``pattern`` in x replaced by
    ``replacement`` (an expression of the match, written ``{m}``), the text between kept as it is.
    The pieces between matches and the matches alternate (n + 1 pieces for n matches)."""
    p = quote_str(pattern)
    return (
        f"array_to_string(flatten(list_transform(list_zip(regexp_split_to_array(x, {p}),"
        f" regexp_extract_all(x, {p})), lambda z: [z[1], case when z[2] is not null then"
        f" {replacement.replace('{m}', 'z[2]')} end])), '')"
    )


def _stage(inner: str, body: str) -> str:
    """Apply the lambda body (over ``x``) to ``inner``, evaluated once."""
    return f"list_transform([{inner}], lambda x: {body})[1]"


def _url_without_query(u: str) -> str:
    """SQL: URL text without its query string and fragment, allow-listed parameters kept
    (written as they were, in their order)."""
    names = "|".join(ALLOWED_QUERY_PARAMS)
    kept = f"regexp_extract_all({u}, '(?i)[?&]((?:{names})=[^&#]*)', 1)"
    return f"regexp_extract({u}, '^[^?#]*') || coalesce('?' || nullif(array_to_string({kept}, '&'), ''), '')"


# The replacement of a match of PERSON_PATTERN: the pseudonym of the text that names the
# person the way the contract's own fields name them, so that joins on it still work.
_PERSON_PSEUDONYM = (
    # a profile URL: 'linkedin.com/in/<vanity name>' (lower-cased, URL-decoded), as the
    # adapters' rl_member_id writes it
    "case when regexp_matches({m}, '(?i)linkedin\\.com/(?:in|pub)/')"
    " then pseudonym('linkedin.com/' || lower(regexp_extract({m}, '(?i)linkedin\\.com/(in|pub)/', 1)) || '/'"
    " || url_decode(lower(regexp_extract({m}, '(?i)linkedin\\.com/(?:in|pub)/(.+)$', 1))))"
    # an email: lower-cased, as an email field is
    " when contains({m}, '@') or contains(lower({m}), '%40')"
    " then pseudonym(lower(regexp_replace({m}, '%40', '@', 'i')))"
    # a member URN or id: as written (':' decoded)
    " when regexp_matches({m}, '^(?i:urn)|^ACoAA') then pseudonym(regexp_replace({m}, '%3a', ':', 'gi'))"
    # a phone number: its + and digits
    " else pseudonym(regexp_replace({m}, '[^0-9+]', '', 'g')) end"
)


def key_id(key: bytes) -> str:
    """A short fingerprint of a key (never the key): which key made a stored pseudonym."""
    return hmac.new(key, b"reachloop key id", hashlib.sha256).hexdigest()[:12]


def install_pseudonym_macro(con: duckdb.DuckDBPyConnection, key: bytes, name: str = "pseudonym") -> None:
    """``name(v)``: the pseudonym of v under ``key``, for this connection only."""
    ipad, opad = _pads(key)
    con.execute(
        f"""
        create or replace temp macro {name}(v) as
        substr(sha256(unhex('{opad.hex()}') || unhex(sha256(unhex('{ipad.hex()}') || encode(v)))),
               1, {PSEUDONYM_HEX_CHARS})
        """
    )


def install_macro(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Define ``pseudonym(v)``, ``pii_suspect(s)``, ``pii_scrub(s)``, ``pii_url(s)`` and
    ``pii_url_query(s)`` for this connection only (temp macros are never persisted)."""
    install_pseudonym_macro(con, key)
    url = _each_match(URL_PATTERN, _url_without_query("{m}"))
    person = _each_match(PERSON_PATTERN, _PERSON_PSEUDONYM)
    query_to_drop = quote_str(_QUERY_TO_DROP)
    without_query = f"case when regexp_matches(s, {query_to_drop}) then {_stage('s', url)} else s end"
    con.execute(
        f"""
        -- True for text that may hold something pii_scrub replaces (few values do): landing
        -- scans only those (validation.py), a bound function call being costly to plan.
        create or replace temp macro pii_suspect(s) as regexp_matches(s, {quote_str(_ANY_PATTERN)});

        create or replace temp macro pii_scrub(s) as
        case when pii_suspect(s) then {_stage(without_query, person)} else s end;

        -- A URL field: the whole value is a URL (with or without scheme): no query string or
        -- fragment beyond the allow-listed parameters (which most tracked links have only).
        create or replace temp macro pii_url_query(s) as
        case when regexp_matches(s, {query_to_drop}) then {_url_without_query("s")} else s end;

        create or replace temp macro pii_url(s) as pii_scrub(pii_url_query(s));
        """
    )


def install_unparsed_mask(con: duckdb.DuckDBPyConnection, vocabulary: list[str]) -> None:
    """``pii_mask_words(s)``: a record that could not be parsed has no fields to tell PII by:
    after ``pii_scrub``, every word of it is masked (``<masked>``) except those that cannot
    name a person — the words of ``vocabulary`` (field names, enumeration values), numbers,
    dates and times, pseudonyms, share, activity, post and organization URNs, punctuation."""
    words = "[" + ", ".join(quote_str(w) for w in sorted(set(vocabulary))) + "]"
    token = "[^\\s,;\"{}\\[\\]\\\\]+"
    # Numbers, dates, times and ids are spared unless they hold a run of 7 or more digits (a
    # phone number or a member id written without separators); pseudonyms always are.
    safe = (
        "[+-]?[0-9][0-9:.+TZ/-]*|[[:punct:]]+"
        "|urn:li:(?:share|activity|ugcPost|organization|organizationBrand):[0-9]+"
        # ids such as emp-7, sh_929b029d, rl-019fa86c, g99: a short prefix, then hex with a digit
        "|[A-Za-z]{1,8}[_:-][0-9a-f_-]*[0-9][0-9a-f_-]*|[A-Za-z]{1,3}[0-9]{1,6}"
    )
    body = _each_match(
        token,
        f"case when (regexp_full_match({{m}}, {quote_str(safe)}) and not regexp_matches({{m}}, '[0-9]{{7}}'))"
        f" or regexp_full_match({{m}}, '[0-9a-f]{{32}}') or list_contains({words}, lower({{m}}))"
        " then {m} else '<masked>' end",
    )
    con.execute(f"create or replace temp macro pii_mask_words(x) as case when x is not null then {body} end")


# pii_suspect's first look in Python (a superset of it), so that a path or a message with
# nothing to scan costs no query.
_SUSPECT = re.compile(
    r"@|%40|urn|acoaa|linkedin|\+[0-9]|[0-9]{3}\)?[ .-]{1,2}[0-9]{3}[ .-][0-9]{4}|[?#]", re.I
)


def scrub_text(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """One string (a file path, a message) through ``pii_scrub``; the macros must be installed."""
    if not _SUSPECT.search(text):
        return text
    return con.execute("select pii_scrub(?)", [text]).fetchone()[0]
