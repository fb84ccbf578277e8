"""The post_analytics adapter: a member's own post analytics (LinkedIn's XLSX export, a tool's
JSON Lines) land as share_metrics that join the employee's share, and the marts read them.

Workbooks are written here with openpyxl (never a vendor's file); expected figures are the
ones written into them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from openpyxl import Workbook

from eventlog.settings import Settings
from eventlog.warehouse import warehouse
from ingestion.adapters import detect_format, land_any
from tests.helpers import dbt_build, query

SAMPLES = Path(__file__).resolve().parents[1] / "ingestion" / "adapters" / "samples"

HEADER = ["Post URL", "Post publish date", "Impressions", "Members reached", "Reactions", "Comments",
          "Reposts", "Saves"]
# One post in each of LinkedIn's two URL forms.
FEED_URL = "https://www.linkedin.com/feed/update/urn:li:activity:7302100000000000001/"
POSTS_URL = "https://www.linkedin.com/posts/ana-silva_attribution-without-cookies-activity-7303000000000000002-QxYz?utm_source=share"
FEED_POST, POSTS_POST = "urn:li:activity:7302100000000000001", "urn:li:activity:7303000000000000002"
POSTS_ROWS = [
    ["Post analytics", "3/1/2026 - 3/5/2026"],  # a title row, then a blank one, then the header
    [],
    HEADER,
    [FEED_URL, "3/1/2026", 1500, 900, 31, 4, 2, 5],
    [POSTS_URL, "3/4/2026", "1,200", 580, 12, 1, 0, None],
]
EXPORT = "Content_2026-03-01_2026-03-05_AnaSilva.xlsx"  # as LinkedIn names it
TOP_POSTS_ROWS = [  # LinkedIn's TOP POSTS: engagements and impressions, in two blocks
    ["Maximum of 50 posts available to include in this list"],
    ["Post URL", "Post publish date", "Engagements", None, "Post URL", "Post publish date", "Impressions"],
    [FEED_URL, "3/1/2026", 37, None, FEED_URL, "3/1/2026", 1500],
]
METRICS = """
    select share_id, observed_at::varchar, impressions, unique_impressions, reactions, comments,
           reshares, clicks, saves, sends
    from raw.share_metrics order by share_id, observed_at
"""


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An XLSX workbook with these sheets, in this order, each row as given."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def write_lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def land(settings: Settings, path: Path, key: bytes, spec: str | None = "post_analytics"):
    with warehouse(settings) as con:
        return land_any(con, path, key, spec=spec)


def nothing_landed(settings: Settings) -> bool:
    return not settings.warehouse.exists() or query(settings.warehouse, "select count(*) from meta.batches") == [(0,)]


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_export_lands_members_reached_as_unique_impressions(settings, pii_key, tmp_path) -> None:
    path = write_workbook(tmp_path / EXPORT, {"POSTS": POSTS_ROWS})
    assert detect_format(path) == "post_analytics"
    [result] = land(settings, path, pii_key, spec=None)  # detected
    assert (result.status, result.event_type, result.rows_landed) == ("landed", "share_metrics", 2)
    assert "observed at 2026-03-06 00:00:00+00 (from the file name)" in result.message
    # the end of the export's last day; clicks stay empty (a member's analytics count none)
    assert query(settings.warehouse, METRICS) == [
        (FEED_POST, "2026-03-06 00:00:00+00", 1500, 900, 31, 4, 2, None, 5, None),
        (POSTS_POST, "2026-03-06 00:00:00+00", 1200, 580, 12, 1, 0, None, None, None),
    ]
    assert query(settings.warehouse, f"select extra from raw.share_metrics where share_id = '{FEED_POST}'") == [
        ('{"published_at":"2026-03-01 00:00:00+00","observed_from":"file name"}',)
    ]


def test_xlsx_observed_at_comes_from_the_option_else_a_clear_error(settings, pii_key, tmp_path) -> None:
    renamed = write_workbook(tmp_path / "ana-analytics.xlsx", {"POSTS": POSTS_ROWS})
    [refused] = land(settings, renamed, pii_key)
    assert refused.status == "rejected" and "when were these figures read? Give observed_at=" in refused.message
    assert nothing_landed(settings)

    [result] = land(settings, renamed, pii_key, "post_analytics:observed_at=2026-03-05 18:00,tz=Europe/Berlin")
    assert result.status == "landed"
    assert query(settings.warehouse, "select distinct observed_at::varchar from raw.share_metrics") == [
        ("2026-03-05 17:00:00+00",)  # 18:00 in Berlin (CET, UTC+1)
    ]


def test_xlsx_with_extra_sheets_reads_the_post_sheet_wherever_it_is(settings, pii_key, tmp_path) -> None:
    path = write_workbook(
        tmp_path / EXPORT,
        {
            "DISCOVERY": [["Overall Performance", "3/1/2026 - 3/5/2026"], ["Impressions", 2700]],
            "ENGAGEMENT": [["Date", "Impressions", "Engagements"], ["3/1/2026", 900, 20]],
            # has Post URL and Impressions, not the rest: passed over for the complete sheet
            "TOP POSTS": TOP_POSTS_ROWS,
            "FOLLOWERS": [["Date", "New followers"], ["3/1/2026", 3]],
            "Posts": POSTS_ROWS,
            "DEMOGRAPHICS": [["Top Demographics", "Value", "Percentage"], ["Job titles", "Engineer", 0.2]],
        },
    )
    [result] = land(settings, path, pii_key)
    assert result.status == "landed" and "sheet 'Posts'" in result.message
    assert [r[:3] for r in query(settings.warehouse, METRICS)] == [
        (FEED_POST, "2026-03-06 00:00:00+00", 1500),
        (POSTS_POST, "2026-03-06 00:00:00+00", 1200),
    ]
    # the option names the sheet too, trimmed and case-insensitive
    again = write_workbook(tmp_path / "again" / EXPORT, {"Other": [["x"]], "Posts": POSTS_ROWS[2:4]})
    [named] = land(settings, again, pii_key, "post_analytics:sheet= posts ")
    assert named.status == "landed" and named.rows_duplicate == 1  # the same figures of the same export


def test_xlsx_without_the_post_sheet_fails_listing_the_sheets(settings, pii_key, tmp_path) -> None:
    renamed = write_workbook(
        tmp_path / EXPORT, {"DISCOVERY": [["Impressions", 2700]], "Posts by URL": POSTS_ROWS}
    )
    [result] = land(settings, renamed, pii_key, "post_analytics:sheet=POSTS")
    assert result.status == "rejected"
    assert result.message == (
        f"{EXPORT}: no sheet named 'POSTS' (sheets: 'DISCOVERY', 'Posts by URL')"
    )
    no_table = write_workbook(
        tmp_path / "other" / EXPORT, {"DISCOVERY": [["Impressions", 2700]], "FOLLOWERS": [["Date", "New followers"]]}
    )
    [result] = land(settings, no_table, pii_key)
    assert result.status == "rejected"
    assert result.message == (
        f"{EXPORT}: no sheet with a header row (in its first 10 rows) holding the columns post url,"
        " impressions; sheets: 'DISCOVERY', 'FOLLOWERS'"
    )
    assert nothing_landed(settings)


def test_xlsx_missing_column_is_named(settings, pii_key, tmp_path) -> None:
    header = ["Post URL", "Post publish date", "Impressions", "Reach", "Reactions", "Comments", "Reposts"]
    path = write_workbook(tmp_path / EXPORT, {"POSTS": [header, [FEED_URL, "3/1/2026", 1500, 900, 31, 4, 2]]})
    [result] = land(settings, path, pii_key)
    assert result.status == "rejected"
    assert result.message == f"{EXPORT}: sheet 'POSTS' is missing columns: members reached; unexpected: reach"
    # LinkedIn's TOP POSTS alone has the post URL and impressions, not the figures per post
    [top] = land(settings, write_workbook(tmp_path / "top" / EXPORT, {"TOP POSTS": TOP_POSTS_ROWS}), pii_key)
    assert top.status == "rejected" and "sheet 'TOP POSTS' is missing columns: members reached, reactions," in (
        top.message
    )
    assert nothing_landed(settings)


# --- JSON Lines -----------------------------------------------------------------------------


def test_json_lines_envelope_and_flat_records(settings, pii_key, tmp_path) -> None:
    path = write_lines(
        tmp_path / "pull-2026-03-08.jsonl",
        [
            # our puller's envelope: the post's own observed_at wins over the call's pulled_at
            {"pulled_at": "2026-03-08T06:00:00Z", "source": "scheduler",
             "response": {"post_url": FEED_URL, "impressions": 1720, "members_reached": 1010, "reactions": 35,
                          "comments": 5, "reposts": 2, "saves": 6, "sends": 1, "clicks": 99}},
            {"pulled_at": "2026-03-08T06:00:00Z", "source": "scheduler",
             "response": {"post_urn": POSTS_POST, "observedAt": "2026-03-08T05:59:30Z", "impressions": "1,480",
                          "uniqueImpressions": 700, "likes": 15, "comments": 2, "shares": 1}},
            # a tool's record as it is, with a time of its own and no offset (tz=)
            {"postUrl": POSTS_URL, "pulledAt": "2026-03-09 08:00", "impressions": 1500,
             "unique_impressions": 710, "reactions": 16, "comments": 2, "reshares": 1, "source": "not read"},
        ],
    )
    assert detect_format(path) == "post_analytics"
    [result] = land(settings, path, pii_key, "post_analytics:tz=Europe/Berlin")
    assert (result.status, result.rows_landed) == ("landed", 3)
    assert query(settings.warehouse, METRICS) == [
        (FEED_POST, "2026-03-08 06:00:00+00", 1720, 1010, 35, 5, 2, None, 6, 1),  # clicks not read
        (POSTS_POST, "2026-03-08 05:59:30+00", 1480, 700, 15, 2, 1, None, None, None),
        (POSTS_POST, "2026-03-09 07:00:00+00", 1500, 710, 16, 2, 1, None, None, None),
    ]
    assert query(settings.warehouse, "select extra from raw.share_metrics order by observed_at") == [
        ('{"source":"scheduler"}',), ('{"source":"scheduler"}',), (None,)
    ]


def test_json_line_without_post_or_time_fails_the_file(settings, pii_key, tmp_path) -> None:
    good = {"pulled_at": "2026-03-08T06:00:00Z", "response": {"post_url": FEED_URL, "impressions": 1}}
    no_time = {"response": {"post_url": FEED_URL, "impressions": 1}}
    no_post = {"pulled_at": "2026-03-08T06:00:00Z", "response": {"id": "7302", "impressions": 1}}
    [result] = land(settings, write_lines(tmp_path / "a.jsonl", [good, no_time]), pii_key)
    assert result.status == "rejected" and result.message == "a.jsonl: no time (observed_at or pulled_at) on line(s) 2"
    [result] = land(settings, write_lines(tmp_path / "b.jsonl", [good, good, no_post]), pii_key)
    assert result.status == "rejected" and result.message == "b.jsonl: no post id (post_url or post_urn) on line(s) 3"
    # a metric missing on one line is a record to quarantine, not a broken file
    [result] = land(settings, write_lines(tmp_path / "c.jsonl", [good]), pii_key)
    assert (result.status, result.rows_quarantined) == ("landed", 1)
    assert query(settings.warehouse, "select reason, detail from meta.quarantine") == [("missing_field", "reactions")]


def test_detection_tells_post_analytics_from_linkedin_pulls(tmp_path) -> None:
    for path in (SAMPLES / "post_analytics").iterdir():
        assert detect_format(path) == "post_analytics", path
    for path in (SAMPLES / "linkedin").iterdir():
        assert detect_format(path) == "linkedin", path
    top_only = write_workbook(tmp_path / EXPORT, {"TOP POSTS": TOP_POSTS_ROWS})
    assert detect_format(top_only) is None  # not the per-post figures this format reads


# --- idempotency and joining the share ------------------------------------------------------


def test_relanding_is_a_no_op(settings, pii_key, tmp_path) -> None:
    for path in sorted((SAMPLES / "post_analytics").iterdir()):
        [first] = land(settings, path, pii_key, spec=None)
        assert first.status == "landed", first.message
    before = query(settings.warehouse, "select count(*) from raw.share_metrics")
    for path in sorted((SAMPLES / "post_analytics").iterdir()):
        [again] = land(settings, path, pii_key, spec=None)
        assert again.status == "skipped"
    assert query(settings.warehouse, "select count(*) from raw.share_metrics") == before == [(4,)]


ADVOCACY = """
    Share ID,Employee ID,Employee Name,Network,Post URL,Shared At,Time Zone,Tracked Link
    sh-1,emp-ana,Ana Silva,LinkedIn,https://www.linkedin.com/posts/ana-silva_closing-the-loop-activity-7302100000000000001-AbCd/,2026-03-01 09:00,Europe/Berlin,https://acme.example/blog/loop?rlt=tk-ana-001
    sh-2,emp-ana,Ana Silva,linkedin,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7303000000000000002/,2026-03-04 08:30,Europe/Berlin,https://acme.example/blog/cookies?rlt=tk-ana-002
"""


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_metrics_join_the_share_the_advocacy_export_gives(settings, pii_key, tmp_path) -> None:
    land(settings, write_text(tmp_path / "shares.csv", ADVOCACY), pii_key, "advocacy_shares")
    land(settings, write_workbook(tmp_path / EXPORT, {"POSTS": POSTS_ROWS}), pii_key)
    joined = query(
        settings.warehouse,
        """select s.share_id, s.tracking_token, m.impressions
           from raw.share s join raw.share_metrics m using (share_id) order by s.share_id""",
    )
    # the advocacy export's posts/…-activity-N and URL-encoded feed/update forms, the
    # workbook's feed/update and posts/… forms (swapped): one id per post
    assert joined == [(FEED_POST, "tk-ana-001", 1500), (POSTS_POST, "tk-ana-002", 1200)]


# --- end to end through dbt -----------------------------------------------------------------

HUMAN_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 Safari/605.1.15"
BOT_UA = "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"


@pytest.mark.slow
def test_marts_observe_reach_and_use_tracked_clicks(settings, pii_key, tmp_path) -> None:
    land(settings, write_text(tmp_path / "exports" / "shares.csv", ADVOCACY), pii_key, "advocacy_shares")
    write_text(
        tmp_path / "contract" / "employee.csv",
        """
        employee_id,observed_at,network,network_size
        emp-ana,2026-02-01T00:00:00Z,linkedin,600
        """,
    )
    write_text(
        tmp_path / "contract" / "click.csv",
        f"""
        click_id,tracking_token,visitor_id,occurred_at,user_agent
        k1,tk-ana-001,v1,2026-03-02T10:00:00Z,{HUMAN_UA}
        k2,tk-ana-001,v2,2026-03-05T23:00:00Z,{HUMAN_UA}
        k3,tk-ana-001,v3,2026-03-03T10:00:00Z,{BOT_UA}
        k4,tk-ana-001,v4,2026-03-07T10:00:00Z,{HUMAN_UA}
        """,
    )
    land(settings, tmp_path / "contract", pii_key, spec=None)
    land(settings, write_workbook(tmp_path / EXPORT, {"POSTS": POSTS_ROWS}), pii_key)
    # tests of models outside the selection (relationships to dim_contents …) stay out
    dbt_build(settings.home, "+mart_reach_vs_network +mart_engagement_rate", "--indirect-selection", "cautious")

    reach = query(
        settings.warehouse,
        f"""select members_reached, reach_basis, network_size, reach_ratio
            from marts.mart_reach_vs_network where share_id = '{FEED_POST}'""",
    )
    assert reach == [(900, "unique_impressions", 600, 1.5)]  # observed members reached ÷ network
    rate = query(
        settings.warehouse,
        f"""select clicks, clicks_basis, interactions, engagement_rate, ctr, saves, sends
            from marts.mart_engagement_rate where share_id = '{FEED_POST}'""",
    )
    # two human clicks by the snapshot (end of 5 March); the bot's and the later one do not count
    assert rate == [(2, "tracked", 2 + 31 + 4 + 2, 39 / 1500, 2 / 1500, 5, None)]
    # the other post: no tracked click yet, 0 — the rate is still LinkedIn's
    other = query(
        settings.warehouse,
        f"select clicks, clicks_basis, engagement_rate from marts.mart_engagement_rate where share_id = '{POSTS_POST}'",
    )
    assert other == [(0, "tracked", 13 / 1200)]
