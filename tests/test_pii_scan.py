"""PII is denied by default: every string that lands is scanned by pattern, not by field name
(ingestion/pseudonymize.py). The examples pin what is replaced and what is spared; the
property test plants generated emails, profile URLs, member URNs and phone numbers in every
place a file can hold them, in every contract format, lands the files, and finds none of them
anywhere in the home. (tests/test_exports_privacy.py builds and publishes such files too.)"""

from __future__ import annotations

import itertools

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.adapters import land_any
from ingestion.landing import install_unparsed_mask, unparsed_vocabulary
from ingestion.pseudonymize import install_macro, pseudonym
from tests.helpers import TEST_PII_KEY, clear_text_places, query, write_planted_pii

KEY = TEST_PII_KEY.encode()


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    install_macro(con, KEY)
    install_unparsed_mask(con, unparsed_vocabulary())
    return con


def _scrub(con: duckdb.DuckDBPyConnection, text: str, macro: str = "pii_scrub") -> str:
    return con.execute(f"select {macro}(?)", [text]).fetchone()[0]


def test_person_shaped_text_becomes_the_pseudonym_its_field_would_get(con) -> None:
    """Same keyed hash as the contract's PII fields, so that joins on them still work."""
    email = pseudonym("jane.doe@example.com", KEY, email=True)
    assert _scrub(con, "write to Jane.Doe@Example.com!") == f"write to {email}!"
    assert _scrub(con, '{"contact": {"Jane.Doe%40example.com": 1}}') == f'{{"contact": {{"{email}": 1}}}}'
    profile = pseudonym("linkedin.com/in/jane-doe-42", KEY)
    assert _scrub(con, "https://uk.linkedin.com/in/Jane-Doe-42/?trk=x") == f"{profile}/"
    assert _scrub(con, "by urn:li:person:AbC-123_x") == f"by {pseudonym('urn:li:person:AbC-123_x', KEY)}"
    assert _scrub(con, "urn%3Ali%3Amember%3A42") == pseudonym("urn:li:member:42", KEY)
    assert _scrub(con, "call +44 20 7946-0958 or (555) 123-4567") == (
        f"call {pseudonym('+442079460958', KEY)} or {pseudonym('5551234567', KEY)}"
    )


def test_urls_lose_query_and_fragment_but_the_allow_listed_parameters(con) -> None:
    url = "https://acme.example/p?utm_source=li&email=j%40x.io&rlt=tok&session=9#top"
    assert _scrub(con, url, "pii_url") == "https://acme.example/p?utm_source=li&rlt=tok"
    assert _scrub(con, f"see {url} now") == "see https://acme.example/p?utm_source=li&rlt=tok now"
    assert _scrub(con, "www.acme.example/x?id=7", "pii_url") == "www.acme.example/x"


@pytest.mark.parametrize(
    "spared",
    [
        "emp_00042", "rl-019fa86cb9a6d4c3", "sh_929b029d", "urn:li:share:7100000001342271472",
        "urn:li:activity:7", "2026-03-01T10:00:00+05:30", "1,234.50", "Why AI? A primer",
        "https://acme.example/customers/why-52?utm_source=linkedin&utm_medium=social",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
        "https://www.linkedin.com/company/acme", "",
    ],
)
def test_what_the_patterns_spare(con, spared: str) -> None:
    assert _scrub(con, spared) == spared


def test_a_record_that_could_not_be_parsed_keeps_only_words_that_name_no_one(con) -> None:
    broken = '{"engagement_id": "g-7", "actor": "Jane Q Public", "actor_id": "1234567", "x": 12'
    masked = _scrub(con, _scrub(con, broken), "pii_mask_words")
    assert masked == (
        '{"engagement_id": "g-7", "<masked>": "<masked> <masked> <masked>", "actor_id": "<masked>",'
        ' "<masked>": 12'
    )


_SLUG = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12)
_PII = st.one_of(
    st.builds(lambda a, b, d: f"{a}.{b}@{d}.example", _SLUG, _SLUG, _SLUG),
    st.builds(lambda s, cc: f"https://{cc}linkedin.com/in/{s}-{s[:3]}", _SLUG, st.sampled_from(["", "www.", "de."])),
    st.builds(lambda s: f"urn:li:person:{s.upper()}{s}", _SLUG),
    st.builds(
        lambda cc, a, b: f"+{cc} {a} {b}",
        st.integers(1, 99), st.integers(100, 999), st.integers(1000000, 9999999),
    ),
)
_HOMES = itertools.count()


@hypothesis_settings(
    max_examples=12, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_PII, min_size=1, max_size=3, unique=True), fmt=st.sampled_from(["csv", "jsonl", "parquet"]))
def test_no_planted_value_lands_anywhere(tmp_path_factory: pytest.TempPathFactory, values: list[str], fmt: str) -> None:
    root = tmp_path_factory.mktemp(f"planted{next(_HOMES)}")
    write_planted_pii(root / "in", values, fmt)
    settings = Settings(root / "home")
    with warehouse(settings) as con:
        results = land_any(con, root / "in", KEY)
    assert results and all(r.status == "landed" for r in results), results
    # the planted records landed (the broken JSON lines were quarantined): none of them lost
    assert query(settings.warehouse, "select count(*) from raw.click") == [(10 + len(values),)]
    broken = len(values) if fmt == "jsonl" else 0
    assert query(settings.warehouse, "select count(*) from meta.quarantine") == [(broken,)]
    assert all(values[0].lower() not in r.path.lower() for r in results)
    assert clear_text_places(settings.home, values) == {}


def test_a_csv_line_shifted_by_a_comma_is_quarantined_masked(settings, pii_key, tmp_path) -> None:
    """Masking by column position fails once a comma shifts the columns: the broken line is
    masked word by word instead, and the PII beside it by pattern."""
    header = "engagement_id,share_id,actor_id,engagement_type,occurred_at\n"
    good = "".join(f"g{i},s1,urn:li:person:m{i},reaction,2026-03-01T10:00:00Z\n" for i in range(12))
    shifted = "g99,s1,Jane, jane.doe@example.com,2026-03-01T10:00:00Z,reaction,Q4721983\n"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "engagement.csv").write_text(header + good + shifted)
    with warehouse(settings) as con:
        [result] = land_any(con, tmp_path / "in", pii_key)
    assert (result.rows_landed, result.rows_quarantined) == (12, 1)
    [(raw, reason)] = query(settings.warehouse, "select raw, reason from meta.quarantine")
    assert reason == "malformed_record"
    assert raw == f"g99,s1,<masked>, {pseudonym('jane.doe@example.com', pii_key, email=True)},2026-03-01T10:00:00Z,reaction,<masked>"
    assert clear_text_places(settings.home, ["jane", "q4721983", "jane.doe@example.com"]) == {}
