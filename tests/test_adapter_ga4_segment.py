"""Click sources from web analytics vendors: the GA4 BigQuery export (Parquet and JSON Lines)
and Segment messages. Every fixture is written here from plain Python data; expected values
are worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventlog.settings import Settings
from reachloop.cli import main
from tests.helpers import clear_text_columns, dbt_build, query
from tests.helpers import land_in as land
from tests.scenarios import Landing

PAGE = "https://acme.example/blog/closing-the-loop"

# --- GA4: one export row from plain data, written as BigQuery writes Parquet and JSON ---------

PARAM_VALUE = pa.struct(
    [("string_value", pa.string()), ("int_value", pa.int64()),
     ("float_value", pa.float64()), ("double_value", pa.float64())]
)
GA4_SCHEMA = pa.schema(
    [
        ("event_date", pa.string()),
        ("event_timestamp", pa.int64()),
        ("event_name", pa.string()),
        ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", PARAM_VALUE)]))),
        ("user_id", pa.string()),  # the site's own user id: never read
        ("user_pseudo_id", pa.string()),
        ("stream_id", pa.string()),
        ("device", pa.struct([
            ("category", pa.string()), ("operating_system", pa.string()),
            ("web_info", pa.struct([("browser", pa.string()), ("browser_version", pa.string()),
                                    ("hostname", pa.string())])),
        ])),
        ("traffic_source", pa.struct([("name", pa.string()), ("medium", pa.string()), ("source", pa.string())])),
        ("collected_traffic_source", pa.struct([
            ("manual_campaign_name", pa.string()), ("manual_source", pa.string()),
            ("manual_medium", pa.string()), ("manual_content", pa.string()),
        ])),
    ]
)


def ga4_event(micros: int, name: str, visitor: str | None, params: dict, **fields) -> dict:
    """One export row; params: str → string_value, int → int_value, float → double_value."""
    def value(v: object) -> dict:
        kind = {str: "string_value", int: "int_value", float: "double_value"}[type(v)]
        return {"string_value": None, "int_value": None, "float_value": None, "double_value": None, kind: v}

    return {
        "event_date": datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y%m%d"),
        "event_timestamp": micros,
        "event_name": name,
        "event_params": [{"key": k, "value": value(v)} for k, v in params.items()],
        "user_id": fields.get("user_id"),
        "user_pseudo_id": visitor,
        "stream_id": "4242",
        "device": fields.get("device", {
            "category": "desktop", "operating_system": "Windows",
            "web_info": {"browser": "Chrome", "browser_version": "122.0.6261.95", "hostname": "acme.example"},
        }),
        "traffic_source": fields.get("traffic_source", {"name": "(organic)", "medium": "organic", "source": "google"}),
        "collected_traffic_source": fields.get("collected_traffic_source"),
    }


def write_parquet(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=GA4_SCHEMA), path)
    return path


def bigquery_json(value: object) -> object:
    """As BigQuery's JSON export writes a row: INT64 as JSON strings (64-bit precision), no nulls."""
    if isinstance(value, dict):
        return {k: bigquery_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [bigquery_json(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def write_jsonl(path: Path, rows: list[dict], *, encode=bigquery_json) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(encode(r)) + "\n" for r in rows))
    return path


def clicks(settings: Settings, columns: str = "*") -> list[tuple]:
    return query(settings.warehouse, f"select {columns} from raw.click order by click_id")


def values_in_clear(settings: Settings, needle: str) -> list[str]:
    """Every raw/meta column holding ``needle`` in any case: 'schema.table.column'."""
    return [column for column, _ in clear_text_columns(settings.warehouse, [needle])]


T0 = 1_772_445_600_000_000  # 2026-03-02T10:00:00Z in microseconds


def tracked(token: str, query_string: str = "") -> str:
    return f"{PAGE}?{query_string + '&' if query_string else ''}rlt={token}"


def a_day_of_ga4() -> list[dict]:
    """A visitor arrives through a tracked link (session_start and page_view on one URL), reads,
    goes on to the pricing page; a second visitor arrives on another share's link."""
    landing = tracked("tk-ana-001", "utm_source=linkedin&utm_medium=advocacy&email=jane%40globex.example")
    session = {"ga_session_id": 1772445600, "ga_session_number": 1}
    return [
        ga4_event(T0, "session_start", "111.222", {"page_location": landing, **session}),
        ga4_event(T0 + 1, "page_view", "111.222", {
            "page_location": landing, "page_referrer": "https://www.linkedin.com/feed/?trk=x",
            "page_title": "Closing the loop", **session}, user_id="jane.doe@globex.example"),
        ga4_event(T0 + 30_500_000, "user_engagement", "111.222",
                  {"page_location": landing, "engagement_time_msec": 30500, "percent": 0.5, **session}),
        ga4_event(T0 + 31_000_000, "page_view", "111.222",
                  {"page_location": "https://acme.example/pricing?session=abc", **session}),
        ga4_event(T0 + 3_600_000_123, "page_view", "333.444", {
            "page_location": tracked("tk-ben-001"), "ga_session_id": 1772449200, "ga_session_number": 3},
            collected_traffic_source={"manual_source": "twitter", "manual_medium": "advocacy",
                                      "manual_campaign_name": "spring-launch", "manual_content": "thread"}),
    ]


# --- GA4 --------------------------------------------------------------------------------------


def test_ga4_parquet_and_jsonl_land_identical_rows(tmp_path, pii_key) -> None:
    rows = a_day_of_ga4()
    from_parquet, from_json = Settings(tmp_path / "p"), Settings(tmp_path / "j")
    [p] = land(from_parquet, write_parquet(tmp_path / "x" / "events_20260302.parquet", rows), pii_key)
    [j] = land(from_json, write_jsonl(tmp_path / "y" / "events_20260302.jsonl", rows), pii_key)
    assert (p.status, p.rows_landed, j.status, j.rows_landed) == ("landed", 2, "landed", 2)
    columns = "* exclude (batch_id, ingested_at)"
    assert clicks(from_parquet, columns) == clicks(from_json, columns)
    assert p.message == j.message


def test_ga4_json_numbers_or_strings_give_one_click_id(tmp_path, pii_key, settings) -> None:
    # BigQuery writes INT64 as strings; a hand-made or re-encoded export may write numbers
    rows = a_day_of_ga4()
    land(settings, write_jsonl(tmp_path / "a" / "events_20260302.jsonl", rows), pii_key)
    [again] = land(settings, write_jsonl(tmp_path / "b" / "events_20260302.jsonl", rows, encode=lambda r: r), pii_key)
    assert (again.rows_landed, again.rows_duplicate) == (0, 2)


def test_ga4_microsecond_timestamps_convert_exactly(tmp_path, pii_key, settings) -> None:
    stamps = [T0 + 1, 1_772_531_999_999_999, 946_684_800_000_000]  # …01 µs, the last µs before 10:00, 2000-01-01
    rows = [ga4_event(us, "page_view", f"v{i}", {"page_location": tracked("tk")}) for i, us in enumerate(stamps)]
    land(settings, write_parquet(tmp_path / "x" / "events.parquet", rows), pii_key)
    got = query(settings.warehouse, "select visitor_id, occurred_at, epoch_us(occurred_at) from raw.click order by 1")
    assert [g[2] for g in got] == stamps
    assert [g[1] for g in got] == [
        datetime(2026, 3, 2, 10, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 3, 9, 59, 59, 999999, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
    ]


def test_ga4_events_without_the_token_are_counted_and_skipped(tmp_path, pii_key, settings) -> None:
    rows = [*a_day_of_ga4(), ga4_event(T0 + 5, "page_view", None, {"page_location": tracked("tk-ana-001")})]
    [result] = land(settings, write_parquet(tmp_path / "x" / "events_20260302.parquet", rows), pii_key)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (2, 2, 0)
    assert "2 events other than page_view (session_start, user_engagement) are not clicks" in result.message
    assert "1 page_view events without a tracking token" in result.message
    assert "1 page_view events with a token but no user_pseudo_id" in result.message
    assert sorted(r[0] for r in clicks(settings, "tracking_token")) == ["tk-ana-001", "tk-ben-001"]


def test_ga4_the_same_day_exported_twice_lands_once(tmp_path, pii_key, settings) -> None:
    first, second = a_day_of_ga4(), a_day_of_ga4()
    # the re-export: rows in another order, one page view's parameters in another order, and a
    # late event GA4 added to the day; written as JSON Lines where the first was Parquet
    second[1]["event_params"].reverse()
    second = [*reversed(second), ga4_event(T0 + 7_200_000_000, "page_view", "555.666", {"page_location": tracked("tk-late")})]
    [a] = land(settings, write_parquet(tmp_path / "x" / "events_20260302.parquet", first), pii_key)
    [b] = land(settings, write_jsonl(tmp_path / "y" / "events_20260302.jsonl", second), pii_key)
    assert (a.rows_landed, b.rows_read, b.rows_landed, b.rows_duplicate) == (2, 3, 1, 2)
    assert len(clicks(settings)) == 3


def test_ga4_nested_event_params_with_string_and_int_values(tmp_path, pii_key, settings) -> None:
    # two page views alike but for an int parameter (the session) and a double: two events
    base = {"page_location": tracked("tk-ana-001"), "page_title": "Closing the loop", "ga_session_number": 2}
    rows = [
        ga4_event(T0, "page_view", "111.222", {**base, "ga_session_id": 1772445600, "value": 1.5}),
        ga4_event(T0, "page_view", "111.222", {**base, "ga_session_id": 1772445601, "value": 1.5}),
        ga4_event(T0, "page_view", "111.222", {**base, "ga_session_id": 1772445601, "value": 2.5}),
    ]
    [result] = land(settings, write_jsonl(tmp_path / "x" / "events.jsonl", rows), pii_key)
    assert (result.rows_landed, result.rows_duplicate) == (3, 0)
    got = clicks(settings, "click_id, tracking_token, landing_url")
    assert len({g[0] for g in got}) == 3 and all(g[0].startswith("ga4:") for g in got)
    assert {g[1:] for g in got} == {("tk-ana-001", PAGE)}


def test_ga4_utms_from_the_url_else_collected_traffic_source(tmp_path, pii_key, settings) -> None:
    collected = {"manual_source": "newsletter", "manual_medium": "email",
                 "manual_campaign_name": "spring-launch", "manual_content": "hero"}
    rows = [
        # the URL's parameters win; what the URL lacks comes from collected_traffic_source
        ga4_event(T0, "page_view", "v1", {"page_location": tracked("tk-1", "utm_source=linkedin&utm_medium=advocacy")},
                  collected_traffic_source=collected),
        ga4_event(T0, "page_view", "v2", {"page_location": tracked("tk-2")}, collected_traffic_source=collected),
        ga4_event(T0, "page_view", "v3", {"page_location": tracked("tk-3")}),
    ]
    land(settings, write_parquet(tmp_path / "x" / "events.parquet", rows), pii_key)
    got = query(
        settings.warehouse,
        "select visitor_id, utm_source, utm_medium, utm_campaign, utm_content, landing_url, user_agent,"
        " extra->>'first_user_source', extra->>'browser' from raw.click order by visitor_id",
    )
    assert got == [
        ("v1", "linkedin", "advocacy", "spring-launch", "hero", PAGE, None, "google", "Chrome"),
        ("v2", "newsletter", "email", "spring-launch", "hero", PAGE, None, "google", "Chrome"),
        ("v3", None, None, None, None, PAGE, None, "google", "Chrome"),
    ]


def test_ga4_never_reads_user_id_nor_keeps_query_strings(tmp_path, pii_key, settings) -> None:
    land(settings, write_parquet(tmp_path / "x" / "events.parquet", a_day_of_ga4()), pii_key)
    assert values_in_clear(settings, "jane.doe@globex.example") == []  # user_id
    assert values_in_clear(settings, "jane%40globex") == []  # an email in the page's query
    assert values_in_clear(settings, "trk=x") == []  # the referrer's query


# --- Segment ------------------------------------------------------------------------------------

VISITOR = "3b1f6c2e-7d4a-4e8b-9c0f-a1b2c3d4e5f6"
USER_ID = "Jane.Roe@Globex.example"
TRAITS = {"email": "jane.roe+crm@globex.example", "name": "Janet Quillfeather", "phone": "+41 79 555 01 23"}
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 Version/17.3 Safari/605.1.15"


def segment_messages() -> list[dict]:
    url = tracked("tk-ana-001", "utm_source=linkedin&utm_medium=advocacy")
    context = {"page": {"url": url, "referrer": "https://www.linkedin.com/?session=1", "search": "?x"},
               "campaign": {"source": "linkedin", "medium": "advocacy", "name": "spring-launch", "content": "hero"},
               "userAgent": UA, "ip": "203.0.113.9", "traits": TRAITS}
    return [
        {"type": "identify", "messageId": "m-1", "anonymousId": VISITOR, "userId": USER_ID, "traits": TRAITS,
         "timestamp": "2026-03-02T10:00:00.000Z"},
        {"type": "page", "messageId": "m-2", "anonymousId": VISITOR, "userId": USER_ID, "name": "Blog",
         "properties": {"url": url, "referrer": "https://www.linkedin.com/?session=1", "title": "Closing the loop"},
         "context": context, "originalTimestamp": "2026-03-02T10:00:03.000Z", "sentAt": "2026-03-02T10:00:04.000Z",
         "receivedAt": "2026-03-02T10:00:05.250Z", "timestamp": "2026-03-02T10:00:04.250Z"},
        {"type": "track", "messageId": "m-3", "anonymousId": VISITOR, "userId": USER_ID, "event": "CTA Clicked",
         "properties": {"label": "Book a demo"}, "context": context, "timestamp": "2026-03-02T10:00:30.000Z"},
        {"type": "track", "messageId": "m-4", "anonymousId": "app-visitor-9", "event": "Deep Link Opened",
         "properties": {"provider": "LinkedIn", "url": tracked("tk-ben-001")},
         "context": {"userAgent": "Acme/4.2 (iPhone; iOS 17.3)"}, "timestamp": "2026-03-02T11:00:00Z"},
        {"type": "page", "messageId": "m-5", "anonymousId": VISITOR, "userId": USER_ID,
         "properties": {"url": "https://acme.example/pricing"}, "timestamp": "2026-03-02T10:01:00.000Z"},
        {"type": "page", "messageId": "m-6", "userId": USER_ID, "properties": {"url": tracked("tk-ana-001")},
         "timestamp": "2026-03-02T10:02:00.000Z"},
    ]


def test_segment_page_and_track_are_clicks_identify_is_skipped(tmp_path, pii_key, settings) -> None:
    [result] = land(settings, write_jsonl(tmp_path / "x" / "segment.jsonl", segment_messages(), encode=lambda m: m),
                    pii_key)
    assert (result.status, result.rows_read, result.rows_landed) == ("landed", 2, 2)
    assert "identify: 1" in result.message
    assert "1 track events not named in track_events" in result.message  # CTA Clicked
    assert "1 page views without a tracking token" in result.message  # the pricing page
    assert "1 messages with a token but no anonymousId" in result.message  # userId only
    assert clicks(settings, "click_id, tracking_token, visitor_id, occurred_at, user_agent, landing_url,"
                            " utm_source, utm_medium, utm_campaign, utm_content, extra") == [
        ("segment:m-2", "tk-ana-001", VISITOR, datetime(2026, 3, 2, 10, 0, 4, 250000, tzinfo=UTC), UA, PAGE,
         "linkedin", "advocacy", "spring-launch", "hero",
         '{"referrer":"https://www.linkedin.com/","message_type":"page"}'),
        ("segment:m-4", "tk-ben-001", "app-visitor-9", datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
         "Acme/4.2 (iPhone; iOS 17.3)", PAGE, None, None, None, None,
         '{"message_type":"track","event":"Deep Link Opened"}'),
    ]
    for trait in TRAITS.values():
        assert values_in_clear(settings, trait) == [], trait


def test_segment_track_events_option_names_the_arrivals(tmp_path, pii_key, settings) -> None:
    path = write_jsonl(tmp_path / "x" / "segment.jsonl", segment_messages(), encode=lambda m: m)
    [result] = land(settings, path, pii_key, spec="segment:track_events=CTA Clicked")
    assert sorted(r[0] for r in clicks(settings, "click_id")) == ["segment:m-2", "segment:m-3"]
    assert "1 track events not named in track_events" in result.message  # now Deep Link Opened


def test_segment_user_id_is_never_in_clear(tmp_path, pii_key, settings) -> None:
    messages = segment_messages()
    # and a click that is quarantined: its masked record must not carry the userId either
    messages.append({**messages[1], "messageId": "m-7", "timestamp": "yesterday"})
    [result] = land(settings, write_jsonl(tmp_path / "x" / "segment.jsonl", messages, encode=lambda m: m), pii_key)
    assert (result.rows_landed, result.rows_quarantined) == (2, 1)
    assert values_in_clear(settings, USER_ID) == []
    assert values_in_clear(settings, "globex") == []


def test_a_broken_json_line_fails_the_segment_file_with_its_line_number(tmp_path, pii_key, settings) -> None:
    path = tmp_path / "x" / "segment.jsonl"
    lines = [json.dumps(m) for m in segment_messages()[:3]]
    lines.insert(2, '{"type": "page", "messageId": "m-9", "anonymousId": "v", "properties": {"url": ')
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    [result] = land(settings, path, pii_key, spec="segment")
    assert result.status == "rejected"
    assert result.message == "segment.jsonl: line(s) 3 are not JSON objects"
    assert query(settings.warehouse, "select count(*) from raw.click")[0][0] == 0


def test_files_of_the_wrong_shape_fail_naming_what_is_missing(tmp_path, pii_key, settings) -> None:
    renamed = [{("client_id" if k == "user_pseudo_id" else k): v for k, v in r.items()} for r in a_day_of_ga4()]
    schema = pa.schema([f.with_name("client_id") if f.name == "user_pseudo_id" else f for f in GA4_SCHEMA])
    parquet = tmp_path / "a" / "events.parquet"
    parquet.parent.mkdir()
    pq.write_table(pa.Table.from_pylist(renamed, schema=schema), parquet)
    no_params = write_jsonl(tmp_path / "b" / "events.jsonl",
                            [{k: v for k, v in r.items() if k != "event_params"} for r in a_day_of_ga4()])
    messages = segment_messages()
    del messages[2]["messageId"]
    no_id = write_jsonl(tmp_path / "c" / "segment.jsonl", messages, encode=lambda m: m)
    expected = [
        (parquet, "ga4", "events.parquet: missing columns: user_pseudo_id; unexpected: client_id, event_date, user_id"),
        (no_params, "ga4", "events.jsonl: missing keys: event_params; unexpected: event_date, user_id"),
        (no_id, "segment", "segment.jsonl: missing keys: 'messageId' on line(s) 3"),
    ]
    for path, spec, message in expected:
        [result] = land(settings, path, pii_key, spec=spec)
        assert (result.status, result.message) == ("rejected", message)
    assert query(settings.warehouse, "select count(*) from raw.click")[0][0] == 0


def test_detected_without_a_format(tmp_path, pii_key, settings) -> None:
    folder = tmp_path / "landing"
    write_parquet(folder / "ga4" / "events_20260302.parquet", a_day_of_ga4())
    write_jsonl(folder / "segment" / "messages.jsonl", segment_messages(), encode=lambda m: m)
    results = land(settings, folder, pii_key)
    assert sorted((Path(r.path).name, r.status, r.rows_landed) for r in results) == [
        ("events_20260302.parquet", "landed", 2), ("messages.jsonl", "landed", 2),
    ]
    assert dict(query(settings.warehouse, "select format, count(*) from meta.batches group by 1")) == {
        "ga4": 1, "segment": 1,
    }


def test_the_samples_land(pii_key, settings) -> None:
    samples = Path(__file__).resolve().parents[1] / "ingestion" / "adapters" / "samples"
    [ga4] = land(settings, samples / "ga4", pii_key)
    [segment] = land(settings, samples / "segment", pii_key)
    assert (ga4.rows_landed, segment.rows_landed) == (1, 2)
    assert sorted(r[0] for r in clicks(settings, "tracking_token")) == ["tk-ana-002", "tk-ben-001", "tk-page-001"]
    assert values_in_clear(settings, "sample.visitor@example.com") == []


# --- end to end: GA4 clicks join the share whose token they carry -------------------------------


@pytest.mark.slow  # a dbt build: 8–11 s
def test_ga4_clicks_join_their_share_in_the_deal_journey(tmp_path, settings) -> None:
    # A contract share (token tok-s1) and a deal whose contact filled a form as visitor
    # 111.222; the click comes from GA4 only: its page view carries tok-s1.
    scenario = Landing()
    scenario.employee("e1", "Sales")
    scenario.share("s1", "e1", "c1")
    scenario.form_fill("111.222", "ga4-visitor", 20)
    scenario.deal("ga4-deal", "ga4-visitor")
    folder = scenario.write(tmp_path / "landing")
    clicked = int(datetime(2025, 5, 27, 9, 30, tzinfo=UTC).timestamp() * 1_000_000)  # 5 days before the deal
    write_parquet(folder / "ga4" / "events_20250527.parquet", [
        ga4_event(clicked - 1, "session_start", "111.222", {"page_location": tracked("tok-s1")}),
        ga4_event(clicked, "page_view", "111.222", {"page_location": tracked("tok-s1")}),
    ])
    assert main(["land", str(folder)]) == 0
    dbt_build(settings.home, "+fct_deal_journey")
    journey = query(
        settings.warehouse,
        "select step_type, step_id, share_id, visitor_id, touch_number from marts.fct_deal_journey"
        " where deal_id = 'ga4-deal' and step_type in ('share', 'click') order by step_number",
    )
    [(click_id,)] = clicks(settings, "click_id")
    assert journey == [("share", "s1", "s1", None, None), ("click", click_id, "s1", "111.222", 1)]
