"""Event-sourced rebuilds: building after every batch gives exactly the tables of one build.

Two proofs, each ending with one ``--full-refresh`` build over the same event log whose
tables (schemas staging, intermediate and marts: every mart and every incremental model) must
equal, EXCEPT ALL both ways, what the incremental builds left, the incremental bookkeeping
columns (when a row was computed) aside:

* property-based: the small workload's files split at random into 2–10 batches, landed one
  batch at a time with an incremental build after each;
* the event-sourcing cases in a row, a build after each: months landed in order, a duplicate
  file, late events for old shares and deals, new versions of existing events (a deal's
  amount, a share's metrics, a form fill's email, a click's visitor), an as-of
  build between them (which must reproduce what the first build said), a batch rejected and
  later restored, and a backfill of an older interval that must not displace newer versions.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builds.dbt_build import run_dbt_build
from eventlog.batches import reject, restore
from eventlog.settings import Settings, pii_key
from eventlog.warehouse import warehouse
from ingestion.landing import land_path, landing_files
from ingestion.pseudonymize import pseudonym

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("incremental_equivalence")]

PII_KEY = "test-incremental-key"
# Tables only: data and unit tests run in test_dbt_marts.py.
BUILD = {"exclude": "resource_type:test resource_type:unit_test"}
SCHEMAS = ("staging", "intermediate", "marts")
# Bookkeeping of incremental models: when (log position, newest ingested_at) a row was computed.
WATERMARKS = ("log_position_through", "ingested_through")


def _month(path: Path) -> int:
    """The month of arrival in a generated file name (``share-2025-05.csv``); 1 without one."""
    found = re.search(r"-\d{4}-(\d{2})\.", path.name)
    return int(found.group(1)) if found else 1


def _land(settings: Settings, paths: list[Path]) -> None:
    with warehouse(settings) as con:
        for path in paths:
            land_path(con, path, pii_key())


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...] = SCHEMAS) -> list[tuple[str, str]]:
    return con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where list_contains(?, table_schema) and table_type = 'BASE TABLE' order by all",
        [list(schemas)],
    ).fetchall()


def _comparable(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """A select of the table without bookkeeping, doubles rounded (sums in another order)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    kept = [
        f'round("{c}", 6) as "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"'
        for c, t in columns
        if c not in WATERMARKS
    ]
    return f'select {", ".join(kept)} from "{schema}"."{table}"'


def _snapshot(settings: Settings, name: str, schemas: tuple[str, ...] = SCHEMAS) -> None:
    """Copy the built tables into schema ``name`` (comparable form) for a later comparison."""
    with warehouse(settings) as con:
        con.execute(f"drop schema if exists {name} cascade; create schema {name}")
        for schema, table in _tables(con, schemas):
            con.execute(f'create table {name}."{schema}__{table}" as {_comparable(con, schema, table)}')


def _differences(
    settings: Settings, name: str, schemas: tuple[str, ...] = SCHEMAS
) -> dict[str, tuple[int, int]]:
    """Per table whose rows differ from snapshot ``name``: (rows only in the snapshot, rows
    only in the current build), EXCEPT ALL both ways; tables missing on either side too."""
    with warehouse(settings) as con:
        current = {f"{s}__{t}": (s, t) for s, t in _tables(con, schemas)}
        kept = {t for _, t in _tables(con, (name,))}
        differ = {t: (-1, -1) for t in set(current) ^ kept}
        for key in sorted(set(current) & kept):
            now = _comparable(con, *current[key])
            only_then, only_now = con.execute(
                f"""select (select count(*) from (select * from {name}."{key}" except all {now})),
                           (select count(*) from ({now} except all select * from {name}."{key}"))"""
            ).fetchone()
            if only_then or only_now:
                differ[key] = (only_then, only_now)
    return differ


def _assert_equals_full_rebuild(settings: Settings) -> None:
    _snapshot(settings, "incremental")
    run_dbt_build(settings, full_refresh=True, **BUILD)
    assert _differences(settings, "incremental") == {}


@pytest.fixture
def pii(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REACHLOOP_PII_KEY", PII_KEY)


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_random_splits_with_a_build_after_each_equal_one_full_build(
    data: st.DataObject, small_workload: Path, tmp_path_factory: pytest.TempPathFactory, pii: None
) -> None:
    files = sorted(landing_files(small_workload / "landing"))
    batches = data.draw(st.integers(min_value=2, max_value=10), label="batches")
    # Any file in any batch: late rows, metrics before their share, deals before their clicks.
    assignment = data.draw(st.lists(st.integers(0, batches - 1), min_size=len(files), max_size=len(files)))
    settings_ = Settings.from_env(tmp_path_factory.mktemp("random_split"))
    for batch in range(batches):
        _land(settings_, [f for f, b in zip(files, assignment, strict=True) if b == batch])
        run_dbt_build(settings_, **BUILD)
    _assert_equals_full_rebuild(settings_)


def _rewrite(source: Path, out: Path, change) -> Path:
    """A copy of a generated CSV file with ``change`` applied to its rows (a DataFrame of text)."""
    rows = pd.read_csv(source, dtype=str, keep_default_na=False)
    change(rows).to_csv(out, index=False)
    return out


@pytest.fixture(scope="module")
def cases(small_workload: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The event-sourcing cases in a row on one home, a build after each; keeps what each said."""
    files = sorted(landing_files(small_workload / "landing"))
    by_month = {m: [f for f in files if _month(f) == m] for m in range(1, 13)}
    extra = tmp_path_factory.mktemp("extra")
    state: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REACHLOOP_PII_KEY", PII_KEY)
        home = Settings.from_env(tmp_path_factory.mktemp("cases"))
        state["settings"] = home

        _land(home, [f for m in (1, 2, 3, 4) for f in by_month[m]])
        run_dbt_build(home, **BUILD)
        state["after_first"] = datetime.now(UTC).isoformat()
        _snapshot(home, "first", ("marts",))

        # Months 5–8: late rows for the shares and deals of months 1–4 arrive with them.
        _land(home, [f for m in (5, 6, 7, 8) for f in by_month[m]])
        run_dbt_build(home, **BUILD)

        # A duplicate file: another name, the same records (re-ordered): every row a duplicate.
        engagements = _csv_of(by_month[3], "engagement")
        _land(home, [_rewrite(engagements, extra / "engagement-redelivered.csv", lambda d: d.iloc[::-1])])
        # A new version of existing events: an old deal event with another amount, an old
        # share's metrics snapshot with other counts; old form fills under other emails and
        # old clicks by other visitors (identity stitched anew: deals and leads gain and lose
        # clicks).
        deals, metrics = _csv_of(by_month[2], "deal"), _csv_of(by_month[1], "share_metrics")
        amounts = _rewrite(
            deals, extra / "deal-corrected.csv", lambda d: _bump(d, "amount", d["amount"] != "")
        )
        counts = _rewrite(metrics, extra / "share_metrics-corrected.csv", lambda d: _bump(d, "impressions"))
        emails = _rewrite(
            _csv_of(by_month[2], "form_fill"), extra / "form_fill-corrected.csv", _rotate("email")
        )
        visitors = _rewrite(
            _csv_of(by_month[3], "click"), extra / "click-corrected.csv", _rotate("visitor_id")
        )
        _land(home, [amounts, counts, emails, visitors, *_share_side_corrections(by_month, extra)])
        run_dbt_build(home, **BUILD)
        state["corrected"] = _versions(home, deals)
        state["computed_at"] = _computed_positions(home)
        state["credited_at"] = _credited_positions(home)
        state["journeys_corrected"] = _journeys_rewritten(home)
        state["rollups_at"] = _rollup_groups(home)

        # An as-of build between them reproduces what the first build said; the next build
        # continues from the whole log, not from that past state.
        run_dbt_build(home, as_of=state["after_first"], **BUILD)
        state["as_of_differences"] = _differences(home, "first", ("marts",))
        _land(home, [f for m in (9, 10) for f in by_month[m]])
        run_dbt_build(home, **BUILD)

        # A batch rejected, a build; restored, a build: back to what the marts said before.
        _snapshot(home, "before_rejection")
        with warehouse(home) as con:
            state["rejected"] = con.execute(
                "select batch_id from staging.stg_event_log__engagements group by batch_id order by count(*) desc limit 1"
            ).fetchone()[0]
            reject(con, state["rejected"], "test")
        run_dbt_build(home, **BUILD)
        state["while_rejected"] = _rows_of_batch(home, state["rejected"])
        with warehouse(home) as con:
            restore(con, state["rejected"])
        run_dbt_build(home, **BUILD)
        state["restored_differences"] = _differences(home, "before_rejection")

        # Months 11–12, and a backfill of an older interval: the deal events of month 2 again
        # as an old export had them, a day earlier and with other amounts. The newer versions
        # must stay.
        # (With them, a page without shares reports its followers of November; its October
        # comes late, below.)
        october, november = _followers_of_a_page_without_shares(by_month, extra)
        _land(home, [*(f for m in (11, 12) for f in by_month[m]), november])
        _land(home, [_rewrite(deals, extra / "deal-backfill.csv", _older)])
        run_dbt_build(home, **BUILD)
        state["after_backfill"] = _versions(home, deals)
        # Follower snapshots of a month before one already built: November's growth now reads
        # October's closing count, though no share and no November snapshot changed
        # (mart_program_kpis_monthly recomputes the page's next month with snapshots too).
        _land(home, [october])
        run_dbt_build(home, **BUILD)
        # A build whose only change is a share moved to another content item.
        _land(home, [_share_moved_to_another_item(by_month, extra)])
        run_dbt_build(home, **BUILD)
        state["monthly_at"] = {m: _rows_of_last_position(home, m) for m in MONTHLY_ROLLUPS}

        # A build whose only change is a new version of one deal touch, now a crawler's click:
        # nothing of the deal itself changed, only a click of its contact's visitor.
        made_a_bot, state["bot_deals"] = _a_deal_touch_made_a_bot(home, files, extra)
        _land(home, [made_a_bot])
        run_dbt_build(home, **BUILD)
        state["journeys_at"] = _journeys_rewritten(home)

        # The share planner's audiences moved every way int_share_plan_audiences must follow,
        # then a colleague who joined leaves again (a build each).
        first_files, second_files, state["planner_roles"] = _planner_audience_changes(home, by_month, extra)
        _land(home, first_files)
        run_dbt_build(home, **BUILD)
        state["planner_first"] = _planner_audiences_written(home, state["planner_roles"])
        _land(home, second_files)
        run_dbt_build(home, **BUILD)
        state["planner_second"] = _planner_audiences_written(home, state["planner_roles"])

        # Corrected media-rate and fx quotes of an early month, alone in their build (no share
        # input changed: only the rates can reprice a share) and after the full rebuilds of the
        # rejection, so that the comparison below sees what the incremental build made of them.
        _land(home, _rate_corrections(by_month, extra))
        run_dbt_build(home, **BUILD)
        state["share_value_at"] = _rows_recomputed(home, "mart_share_value")
        state["program_value_at"] = _rows_recomputed(home, "mart_program_value")

        _snapshot(home, "incremental")
        run_dbt_build(home, full_refresh=True, **BUILD)
        state["full_differences"] = _differences(home, "incremental")
        yield state


def _share_side_corrections(by_month: dict[int, list[Path]], extra: Path) -> list[Path]:
    """New versions that move things between keys on the share side (same event times, so they
    win): employee shares of an early month under each other's authors (both authors' cadence,
    profiles and audiences change, and a share can fall before its new author's first
    snapshot), and engagements of another month on each other's shares."""

    def rotate_employee_authors(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.copy()
        employee = rows.index[rows["author_type"] == "employee"]
        rows.loc[employee, "author_id"] = _rotate("author_id")(rows.loc[employee])["author_id"]
        return rows

    shares = next(_csv_of(by_month[m], "share") for m in (1, 2, 3, 4) if _has_csv(by_month[m], "share"))
    engagements = next(
        _csv_of(by_month[m], "engagement") for m in (4, 5, 6, 7) if _has_csv(by_month[m], "engagement")
    )
    return [
        _rewrite(shares, extra / "share-moved.csv", rotate_employee_authors),
        _rewrite(engagements, extra / "engagement-moved.csv", _rotate("share_id")),
    ]


def _followers_of_a_page_without_shares(by_month: dict[int, list[Path]], extra: Path) -> tuple[Path, Path]:
    """October's page follower snapshots under a page that posts no share, and the same
    snapshots a month later (November, 50 followers more): two files of that page."""
    october = _csv_of(by_month[10], "page_followers")

    def other_page(months_later: int, more: int):
        def change(rows: pd.DataFrame) -> pd.DataFrame:
            when = pd.to_datetime(rows["observed_at"], utc=True, errors="coerce", format="ISO8601")
            counts = pd.to_numeric(rows["followers"], errors="coerce")
            rows = rows[when.notna() & counts.notna()].copy()
            rows["page_id"] = "page:no-shares"
            rows["observed_at"] = (when[rows.index] + pd.DateOffset(months=months_later)).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            rows["followers"] = (counts[rows.index] + more).astype(int).astype(str)
            return rows

        return change

    return (
        _rewrite(october, extra / "page_followers-other-page-october.csv", other_page(0, 0)),
        _rewrite(october, extra / "page_followers-other-page-november.csv", other_page(1, 50)),
    )


def _rate_corrections(by_month: dict[int, list[Path]], extra: Path) -> list[Path]:
    """New versions of old media-rate quotes (other amounts: every share of their windows is
    priced anew), new quotes ten days after old ones (a window split in two) and new versions
    of old fx quotes (media rates quoted in another currency convert anew)."""

    def quotes_moved(rows: pd.DataFrame) -> pd.DataFrame:
        # The generated files hold a few unreadable rows (quarantined): they stay as they are.
        priced = pd.to_numeric(rows["amount"], errors="coerce").notna()
        bumped = _bump(rows, "amount", priced & rows.index.isin(rows.index[::2]))
        split = rows[priced].iloc[1::3].copy()
        when = pd.to_datetime(split["observed_at"], utc=True, errors="coerce") + pd.Timedelta(days=10)
        split = split[when.notna()]
        split["observed_at"] = when[when.notna()].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        split["amount"] = (pd.to_numeric(split["amount"]) * 3).round(2).astype(str)
        return pd.concat([bumped, split], ignore_index=True)

    def fx_corrected(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.copy()
        rate = pd.to_numeric(rows["rate"], errors="coerce")
        # the month's last quote too: the next month's first media rates convert at it
        chosen = rows.index[rate.notna() & rows.index.isin([*rows.index[::5], rows.index[-1]])]
        rows.loc[chosen, "rate"] = (rate[chosen] * 1.25).astype(str)
        return rows

    media = next(_csv_of(by_month[m], "media_rate") for m in (1, 2, 3, 4) if _has_csv(by_month[m], "media_rate"))
    fx = next(_csv_of(by_month[m], "fx_rate") for m in (1, 2, 3, 4) if _has_csv(by_month[m], "fx_rate"))
    return [
        _rewrite(media, extra / "media_rate-corrected.csv", quotes_moved),
        _rewrite(fx, extra / "fx_rate-corrected.csv", fx_corrected),
    ]


def _rows_recomputed(settings: Settings, mart: str) -> dict[str, int]:
    """A mart as the last incremental build left it: the rows it wrote out of all."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        recomputed, rows = con.execute(
            f"""select count(*) filter (where log_position_through = (
                        select max(log_position_through) from marts.{mart})),
                       count(*)
                from marts.{mart}"""
        ).fetchone()
    return {"recomputed": recomputed, "rows": rows}


MONTHLY_ROLLUPS = ("mart_program_kpis_monthly", "mart_network_monthly")


def _rows_of_last_position(settings: Settings, mart: str) -> dict[str, int]:
    """A mart as the last build left it: the rows computed at the newest log position (the
    build's: nothing landed since) out of all."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        recomputed, rows = con.execute(
            f"""select count(*) filter (where log_position_through = (
                        select max(log_position) from meta.batches)),
                       count(*)
                from marts.{mart}"""
        ).fetchone()
    return {"recomputed": recomputed, "rows": rows}


BOT_USER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _a_deal_touch_made_a_bot(settings: Settings, files: list[Path], extra: Path) -> tuple[Path, set[str]]:
    """A new version of one click that is a deal's touch (from a CSV file, so that it can be
    rewritten as text), the same in all but its user agent, now a crawler's; and the deals
    whose clicks it is (a touch of one of them). Same event time, landed later: it wins."""
    rows: dict[str, tuple[list[str], dict[str, str]]] = {}
    for path in files:
        if path.suffix == ".csv" and _event_type(path) == "click":
            with path.open(newline="") as handle:
                reader = csv.DictReader(handle)
                # rows with too many fields (the generator's malformed ones) carry a None key
                for row in reader:
                    if None not in row:
                        rows.setdefault(row["click_id"], (list(reader.fieldnames), row))
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        click_id, deals = con.execute(
            """select click_id, list(distinct deal_id) from intermediate.int_deal_clicks_joined
               where list_contains(?, click_id)
               group by click_id having bool_or(is_touch) order by click_id limit 1""",
            [list(rows)],
        ).fetchone()
    header, row = rows[click_id]
    out = extra / "click-made-a-bot.csv"
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerow(row | {"user_agent": BOT_USER_AGENT})
    return out, set(deals)


def _journeys_rewritten(settings: Settings) -> dict:
    """The deals whose journeys the last build rewrote (their rows carry its log position),
    and how many deals have a journey."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        rewritten, deals = con.execute(
            """select coalesce(list(distinct deal_id) filter (where log_position_through = (
                       select max(log_position) from meta.batches)), []),
                      count(distinct deal_id)
               from marts.fct_deal_journey"""
        ).fetchone()
    return {"rewritten": set(rewritten), "deals": deals}


def _share_moved_to_another_item(by_month: dict[int, list[Path]], extra: Path) -> Path:
    """A new version of an early month's employee share on another content item: the pairs
    and overlaps of both items' sharers change, though only one author's set of items does
    (mart_audience_pairs must find the pairs with the new item's other sharers from the item).
    Landed after the restored batch, whose full rebuilds would otherwise hide what an
    incremental build got wrong."""

    files = [_csv_of(by_month[m], "share") for m in range(1, 13) if _has_csv(by_month[m], "share")]
    every = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    every = every[(every["author_type"] == "employee") & (every["content_id"] != "")]
    items_of = every.groupby("author_id")["content_id"].agg(set)
    shares_of = every.groupby(["author_id", "content_id"]).size()

    def move_one_employee_share(rows: pd.DataFrame) -> pd.DataFrame:
        # One share, its author's only share of its item, to an item others shared and its
        # author never did: its author is the only one whose items change, so the other
        # sharers of both items must be found from the items.
        rows = rows.copy()
        for index in rows.index[rows["author_id"].isin(items_of.index)]:
            author, item = rows.loc[index, "author_id"], rows.loc[index, "content_id"]
            if item and shares_of[(author, item)] == 1:
                target = next((i for i in every["content_id"] if i not in items_of[author]), None)
                if target:
                    rows.loc[index, "content_id"] = target
                    return rows
        raise AssertionError("no employee share to move in the workload")

    return _rewrite(files[1], extra / "share-content-moved.csv", move_one_employee_share)


def _planner_audience_changes(
    settings: Settings, by_month: dict[int, list[Path]], extra: Path
) -> tuple[list[Path], list[Path], dict]:
    """Candidates of the share planner, one for each way their stored audience goes
    stale (int_share_plan_audiences). The first build:
      * "new": a newer observation of theirs, before the plan moment (a third of the members gone);
      * "late": a late row of the observation they stand on (a member of another's audience);
      * "out": opting out (a newer snapshot of theirs: their own member id, a colleague before
        and after, moves nobody);
      * "holder": a member only their audience holds ("joining") becomes a colleague: a new
        employee's snapshot with that member id.
    The next build: "joiner", no candidate so far, opts in (their observation is old: no row of
    it lands); the new employee's snapshot gets another member id ("moving"), one only
    "other_holder"'s audience holds: "joining" is a colleague no more, "moving" is one now; and
    a new member engages with a share of "engaged", a candidate without an observation, just
    before the plan moment (their fallback audience gains them; nothing else of theirs moves).
    Returns the first build's files, the next build's files and the roles (members as their
    member_number, in text)."""
    key = pii_key()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        observed = dict(
            con.execute(
                "select employee_id, audience_observed_at from intermediate.int_share_plan_candidates"
                " where audience_basis = 'observed' order by employee_id"
            ).fetchall()
        )
        plan_at, snapshots_until = con.execute(
            "select (select max(plan_at) from intermediate.int_share_plan_candidates),"
            " (select max(observed_at) from staging.stg_event_log__employees)"
        ).fetchone()
        stored = con.execute(
            "select employee_id, cast(member_number as varchar) from intermediate.int_share_plan_audiences"
        ).fetchall()
        [joiner] = con.execute(
            """select min(employee_id) from marts.dim_employees
               where left_at is null
                   and employee_id not in (select employee_id from intermediate.int_share_plan_candidates)
                   and employee_id in (select employee_id from staging.stg_event_log__audiences
                                       where observed_at <= ?)""",
            [plan_at],
        ).fetchone()
        engaged, share_id = con.execute(
            """select shares.author_id, shares.share_id
               from staging.stg_event_log__shares as shares
               inner join intermediate.int_share_plan_candidates as candidates
                   on shares.author_id = candidates.employee_id and candidates.audience_basis = 'engaged'
               where shares.posted_at < candidates.plan_at - interval 1 hour
               order by shares.posted_at desc limit 1"""
        ).fetchone()
    assert len(observed) >= 5, "the workload has too few observed candidates for the planner's case"
    holders: dict[str, set[str]] = {}
    for employee, member in stored:
        holders.setdefault(member, set()).add(employee)
    # the candidates' current observations as generated (raw member ids): the last month's file
    last = next(f for f in by_month[12] if _event_type(f) == "audience")
    rows = duckdb.sql(f"select employee_id, member_id, observed_at from '{last}'").df()
    rows["observed_at"] = pd.to_datetime(rows["observed_at"], utc=True)
    rows["number"] = [str(int(pseudonym(m, key), 16)) if isinstance(m, str) else None for m in rows["member_id"]]
    current = {e: rows[(rows["employee_id"] == e) & (rows["observed_at"] == t)] for e, t in observed.items()}

    def held_by_them_alone(employees: list[str]) -> tuple[str, str, str]:
        return next(
            (e, member, number)
            for e in employees
            for member, number in zip(current[e]["member_id"], current[e]["number"], strict=True)
            if holders.get(number) == {e}
        )

    holder, joining, joining_number = held_by_them_alone(list(observed))
    new, late, out, *others = [e for e in observed if e != holder]
    other_holder, moving, moving_number = held_by_them_alone(others)
    later = observed[new] + pd.Timedelta(minutes=1)
    assert later <= plan_at
    assert joiner is not None
    roles = {
        "new": new, "late": late, "out": out, "holder": holder, "other_holder": other_holder,
        "joiner": joiner, "engaged": engaged, "joining": joining_number, "moving": moving_number,
        "observed": sorted(observed), "new_observed_at": later,
    }

    added = next(
        row.member_id
        for row in rows.itertuples()
        if row.number in holders and late not in holders[row.number] and row.number != joining_number
    )
    audience = pd.concat(
        [
            current[new].iloc[[i for i in range(len(current[new])) if i % 3]].assign(observed_at=later),
            pd.DataFrame({"employee_id": [late], "member_id": [added], "observed_at": [observed[late]]}),
        ]
    )
    audience["observed_at"] = pd.to_datetime(audience["observed_at"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    audience_file = extra / "audience-planner.csv"
    audience[["employee_id", "member_id", "observed_at"]].to_csv(audience_file, index=False)

    employees = pd.concat(
        pd.read_csv(f, dtype=str, keep_default_na=False)
        for m in range(1, 13)
        for f in by_month[m]
        if f.suffix == ".csv" and _event_type(f) == "employee"
    )
    moment = pd.Timestamp(snapshots_until)
    when, again = ((moment + pd.Timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in (1, 2))
    latest_of = lambda employee: employees[employees["employee_id"] == employee].iloc[[-1]]  # noqa: E731
    colleague = employees.iloc[[0]].assign(
        employee_id="emp_planner_case", observed_at=when, member_id=joining, advocate_opt_in="false",
        email="planner.case@acme.example", hired_at="", left_at="",
    )
    first = extra / "employee-planner.csv"
    pd.concat([latest_of(out).assign(observed_at=when, advocate_opt_in="false"), colleague]).to_csv(
        first, index=False
    )
    second = extra / "employee-planner-again.csv"
    opting_in = latest_of(joiner).assign(observed_at=again, advocate_opt_in="true", left_at="")
    pd.concat([opting_in, colleague.assign(member_id=moving)]).to_csv(second, index=False)
    engagement = extra / "engagement-planner.csv"
    pd.DataFrame(
        {
            "engagement_id": ["eng_planner_case"],
            "share_id": [share_id],
            "actor_id": ["li:planner-case-engager"],
            "engagement_type": ["reaction"],
            "occurred_at": [(pd.Timestamp(plan_at) - pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")],
        }
    ).to_csv(engagement, index=False)
    return [audience_file, first], [second, engagement], roles


def _planner_audiences_written(settings: Settings, roles: dict) -> dict:
    """int_share_plan_audiences as the last build left it: the observed candidates whose rows it
    wrote (at the build's log position), who has rows, the two holders' members and the
    observation the "new" candidate's rows were read from."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        written = con.execute(
            """select distinct employee_id from intermediate.int_share_plan_audiences
               where audience_basis = 'observed'
                   and log_position_through = (select max(log_position) from meta.batches)"""
        ).fetchall()
        present = con.execute("select distinct employee_id from intermediate.int_share_plan_audiences").fetchall()
        members = {
            role: {
                m
                for (m,) in con.execute(
                    "select cast(member_number as varchar) from intermediate.int_share_plan_audiences"
                    " where employee_id = ?",
                    [roles[role]],
                ).fetchall()
            }
            for role in ("holder", "other_holder")
        }
        observations = con.execute(
            "select distinct audience_observed_at from intermediate.int_share_plan_audiences where employee_id = ?",
            [roles["new"]],
        ).fetchall()
    return {
        "written": {e for (e,) in written},
        "present": {e for (e,) in present},
        "holder_members": members["holder"],
        "other_holder_members": members["other_holder"],
        "new_observed_at": [t for (t,) in observations],
    }


def _has_csv(files: list[Path], event_type: str) -> bool:
    return any(f.suffix == ".csv" and event_type in (f.parent.name, f.name.split("-")[0]) for f in files)


def _csv_of(files: list[Path], event_type: str) -> Path:
    """The CSV file of an event type among a month's files (in a folder named after it, or not)."""
    return next(
        f for f in files if f.suffix == ".csv" and event_type in (f.parent.name, f.name.split("-")[0])
    )


def _bump(rows: pd.DataFrame, column: str, where=None) -> pd.DataFrame:
    rows = rows.copy()
    chosen = rows.index if where is None else rows.index[where]
    rows.loc[chosen, column] = (pd.to_numeric(rows.loc[chosen, column]) + 7).astype(int).astype(str)
    return rows


def _rotate(column: str):
    """Every other row takes the next row's value of ``column`` (a new version of each)."""

    def change(rows: pd.DataFrame) -> pd.DataFrame:
        rows = rows.copy()
        chosen = rows.index[::2]
        rows.loc[chosen, column] = rows[column].shift(-1, fill_value=rows[column].iloc[0]).loc[chosen]
        return rows

    return change


def _older(rows: pd.DataFrame) -> pd.DataFrame:
    rows = _bump(rows, "amount", rows["amount"] != "")
    when = pd.to_datetime(rows["occurred_at"], utc=True) - pd.Timedelta(days=1)
    rows["occurred_at"] = when.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return rows


def _versions(settings: Settings, deals: Path) -> dict[str, list]:
    """What staging holds for the deal events of a generated file: amount and event time."""
    ids = pd.read_csv(deals, dtype=str, keep_default_na=False)["deal_event_id"].tolist()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {
            "deal": con.execute(
                "select deal_event_id, amount, occurred_at from staging.stg_event_log__deal_events"
                " where list_contains(?, deal_event_id) order by all",
                [ids],
            ).fetchall()
        }


def _rows_of_batch(settings: Settings, batch_id: str) -> int:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            "select count(*) from staging.stg_event_log__engagements where batch_id = ?", [batch_id]
        ).fetchone()[0]


def _computed_positions(settings: Settings) -> int:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            "select count(distinct log_position_through) from marts.fct_engagements"
        ).fetchone()[0]


def _credited_positions(settings: Settings) -> dict[str, int]:
    """Deals and clicks as the deal side's incremental tables last computed them: how many
    rows of int_deal_clicks_joined the last build wrote beside older ones, how many deals
    int_touches_credited re-credited out of all, and how many deals' rows
    mart_lead_to_deal_attribution rewrote out of all."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        clicks = con.execute(
            "select count(distinct log_position_through) from intermediate.int_deal_clicks_joined"
        ).fetchone()[0]
        recredited, deals = con.execute(
            """select count(distinct deal_id) filter (where log_position_through = (
                       select max(log_position_through) from intermediate.int_touches_credited)),
                      count(distinct deal_id)
               from intermediate.int_touches_credited"""
        ).fetchone()
        attributed, attributed_deals = con.execute(
            """select count(distinct deal_id) filter (where log_position_through = (
                       select max(log_position_through) from marts.mart_lead_to_deal_attribution)),
                      count(distinct deal_id)
               from marts.mart_lead_to_deal_attribution"""
        ).fetchone()
    return {"deal_clicks_positions": clicks, "recredited": recredited, "deals": deals,
            "attributed": attributed, "attributed_deals": attributed_deals}


def _rollup_groups(settings: Settings) -> dict[str, int]:
    """The attribution rollups as the last build left them: the groups it recomputed out of
    all, and the previous rows of changed deals it should have consumed (and deleted)."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        recomputed, groups = con.execute(
            """select count(*) filter (where log_position_through = (
                       select max(log_position_through) from marts.mart_attribution_rollups)),
                      count(*)
               from marts.mart_attribution_rollups"""
        ).fetchone()
        previous = con.execute(
            "select count(*) from intermediate.int_attribution_touch_groups where is_previous"
        ).fetchone()[0]
    return {"recomputed": recomputed, "groups": groups, "previous": previous}


def test_event_sourcing_cases_in_a_row_equal_one_full_build(cases: dict) -> None:
    assert cases["full_differences"] == {}


def test_an_as_of_build_between_them_reproduces_the_first_build(cases: dict) -> None:
    assert cases["as_of_differences"] == {}


def test_a_rejected_batch_leaves_staging_and_comes_back_restored(cases: dict) -> None:
    assert cases["while_rejected"] == 0
    assert cases["restored_differences"] == {}


def test_a_backfill_of_an_older_interval_does_not_displace_newer_versions(cases: dict) -> None:
    # The corrections (new versions, same event time) replaced the originals …
    assert cases["corrected"]["deal"]
    # … and the backfill (older event times, landed later) changed nothing.
    assert cases["after_backfill"] == cases["corrected"]


def test_later_builds_were_incremental(cases: dict) -> None:
    # Rows keep the log position of the build that computed them: the second build added
    # rows of its own position beside the first build's (else it rebuilt the table whole).
    assert cases["computed_at"] > 1


def test_the_monthly_rollups_were_incremental(cases: dict) -> None:
    # One share moved to another content item: its month (and the months of the clicks on its
    # token) were recomputed, its month × network group too, the other rows kept as they were.
    for mart in MONTHLY_ROLLUPS:
        assert 0 < cases["monthly_at"][mart]["recomputed"] < cases["monthly_at"][mart]["rows"], mart


def test_the_planner_audiences_were_incremental(cases: dict) -> None:
    roles, first, second = cases["planner_roles"], cases["planner_first"], cases["planner_second"]
    # The new observation, the late row, the opt-out and the colleague who joined: the build
    # rewrote exactly the observed candidates they touched, and the one who opted out is gone.
    assert first["written"] == {roles["new"], roles["late"], roles["holder"]}
    assert roles["out"] not in first["present"]
    assert roles["joining"] not in first["holder_members"]
    assert first["new_observed_at"] == [roles["new_observed_at"]]
    # Someone opted in, the colleague's member id moved (and an engaged candidate's audience
    # grew): of the observed candidates, only those three were rewritten.
    assert second["written"] == {roles["joiner"], roles["holder"], roles["other_holder"]}
    assert roles["joining"] in second["holder_members"]
    assert roles["moving"] not in second["other_holder_members"]
    assert roles["out"] not in second["present"] and roles["joiner"] in second["present"]


def test_the_deal_side_was_incremental(cases: dict) -> None:
    # Deal × click rows of the first builds stayed beside the correction's …
    assert cases["credited_at"]["deal_clicks_positions"] > 1
    # … and the correction re-credited some deals, not all: a deal with one touch (or one
    # state) keeps its split whatever the removal effects and Shapley values.
    assert 0 < cases["credited_at"]["recredited"] < cases["credited_at"]["deals"]
    # The attribution mart rewrote those deals and the ones whose amounts were corrected, not all.
    credited = cases["credited_at"]
    assert credited["recredited"] <= credited["attributed"] < credited["attributed_deals"]
    # The journeys of the deals the corrections touched were rewritten, the others kept.
    assert 0 < len(cases["journeys_corrected"]["rewritten"]) < cases["journeys_corrected"]["deals"]


def test_a_deal_journey_follows_a_click_of_its_contact(cases: dict) -> None:
    # A touch turned a crawler's click rewrote the journeys of its deals, and only theirs (the
    # comparison with the full rebuild checks what they now say).
    assert cases["journeys_at"]["rewritten"] == cases["bot_deals"]
    assert len(cases["bot_deals"]) < cases["journeys_at"]["deals"]


def test_the_attribution_rollups_were_incremental(cases: dict) -> None:
    # The corrections changed some deals: only their groups (before and after) were
    # recomputed, and the rows they had before were consumed.
    assert 0 < cases["rollups_at"]["recomputed"] < cases["rollups_at"]["groups"]
    assert cases["rollups_at"]["previous"] == 0


def test_the_value_marts_were_incremental(cases: dict) -> None:
    # The corrected rates moved some shares' values, not every share's, and the program's value
    # in some groups, not all.
    for mart in ("share_value_at", "program_value_at"):
        assert 0 < cases[mart]["recomputed"] < cases[mart]["rows"], mart


def test_the_versions_were_really_corrected(cases: dict, small_workload: Path) -> None:
    # The corrected amounts are the generated ones + 7, where the generated file had one.
    deals = _csv_of([f for f in landing_files(small_workload / "landing") if _month(f) == 2], "deal")
    generated = pd.read_csv(deals, dtype=str, keep_default_na=False)
    with_amount = generated[generated["amount"] != ""].iloc[0]
    staged = {d: a for d, a, _ in cases["corrected"]["deal"]}
    assert float(staged[with_amount["deal_event_id"]]) == pytest.approx(float(with_amount["amount"]) + 7)


def _event_type(path: Path) -> str:
    return path.parent.name if path.parent.name != "landing" else path.name.split("-")[0].split(".")[0]


def test_a_build_runs_only_the_nodes_of_event_types_that_landed(
    small_workload: Path, tmp_path_factory: pytest.TempPathFactory, pii: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from builds.steps import build

    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # the log's SQL statements are looked at below

    files = sorted(landing_files(small_workload / "landing"))
    # The last month's metrics snapshots (of old shares too) and page followers: no audience,
    # engagement, click or deal rows land.
    late = [f for f in files if _month(f) == 12 and _event_type(f) in ("share_metrics", "page_followers")]
    settings_ = Settings.from_env(tmp_path_factory.mktemp("node_selection"))
    _land(settings_, [f for f in files if f not in late])
    assert build(settings_).status == "succeeded"
    _land(settings_, late)
    planted = _plant_an_old_violation(settings_)
    outcome = build(settings_)
    assert outcome.status == "succeeded" and not outcome.full_refresh
    # The build decided the refresh (a good build before it, no dbt run since): the macros did
    # not ask the log again per model (macros/incremental.sql, should_full_refresh()); the full
    # rebuild at the end shows the tables are right all the same.
    dbt_log = (settings_.home / "dbt" / "logs" / "dbt.log").read_text().split("Running with dbt=")[-1]
    assert "from meta.dbt_last_run" not in dbt_log and "latest_action_at >" not in dbt_log
    _assert_publish_followed_the_change(settings_, tmp_path_factory.mktemp("whole_publish"), planted)
    with warehouse(settings_) as con:
        built = set(
            con.execute("select models_built from meta.builds where build_id = ?", [outcome.build_id]).fetchone()[0]
        )
    assert {"stg_event_log__share_metrics", "int_share_metrics_latest", "fct_shares", "mart_engagement_rate"} <= built
    # Nothing of theirs landed: they stay as the first build left them.
    assert not built & {"stg_event_log__audiences", "int_employee_engager_spans", "fct_engagements",
                        "stg_event_log__deal_events", "int_deals_folded", "int_colleague_members", "int_visitors_stitched"}
    # Open deals convert at the newest landing (the batch ledger as data): it runs whenever
    # anything landed.
    assert "int_deal_amounts_converted" in built
    _assert_gate_2_catches_what_the_build_made(settings_, tmp_path_factory.mktemp("bad_metrics"))
    _assert_equals_full_rebuild(settings_)


# Gate 2 and publish follow the change (the checks below ride on the builds above).


def _plant_an_old_violation(settings: Settings) -> tuple[str, float]:
    """An old row of fct_shares that the coming build does not recompute (no metrics of its
    share landed) made to break a rule of fct_shares alone (a reach ratio missing where it
    can be computed; the marts over fct_shares rebuilt whole have no rule it breaks): checked
    when it was written, it is not this build's concern. Returns (share_id, its ratio) to put
    back."""
    with warehouse(settings) as con:
        share_id, ratio = con.execute(
            """select share_id, reach_ratio from marts.fct_shares
               where network_size > 0 and members_reached is not null and share_id not in (
                   select share_id from raw.share_metrics where batch_id in (
                       select batch_id from meta.batches where log_position > (
                           select max(log_cutoff_position) from meta.builds where status = 'succeeded')))
               order by share_id limit 1"""
        ).fetchone()
        con.execute("update marts.fct_shares set reach_ratio = null where share_id = ?", [share_id])
    return share_id, ratio


def _assert_publish_followed_the_change(settings: Settings, scratch: Path, planted: tuple[str, int]) -> None:
    """The selected build passed gate 2 over the planted old row (checked: rows it wrote), and
    published as publish promises: every mart whose content is unchanged, and every unchanged
    month of a partitioned one, is the last version's (same inodes; the table taken over),
    only the others are written, and the new version equals a whole publish of the same marts
    (its tables, and its Parquet byte for byte)."""
    import hashlib
    import json
    import os

    from builds.publish import publish

    current = Path(os.path.realpath(settings.published / "current"))
    versions = sorted(p for p in (settings.published / "versions").iterdir() if p.name != current.name)
    previous = versions[-1]
    manifest = json.loads((current / "publication.json").read_text())["marts"]
    before = json.loads((previous / "publication.json").read_text())["marts"]
    changed = {n for n, m in manifest.items() if m["fingerprint"] != before[n]["fingerprint"]}
    assert "fct_shares" in changed, changed

    def same_inode(f: Path) -> bool:
        was = previous / f.relative_to(current)
        return was.exists() and f.stat().st_ino == was.stat().st_ino

    for name, mart in manifest.items():
        files = sorted((current / "parquet" / name).rglob("*.parquet"))
        if name not in changed:
            assert (mart["parquet"], mart["duckdb"]) == ("carried over", "carried over"), name
            assert files and all(same_inode(f) for f in files), name
            continue
        assert mart["parquet"] in ("written", "patched") and mart["duckdb"] in ("written", "patched"), name
        months, earlier = mart.get("months"), before[name].get("months") or {}
        for f in files:  # a partition is rewritten exactly when its month's content changed
            kept = months is not None and earlier.get(f.parent.name) == months[f.parent.name]
            assert same_inode(f) == kept, f
    whole = publish(settings, scratch, build_id="whole")
    with duckdb.connect() as con:
        con.execute(f"attach '{current / 'reachloop.duckdb'}' as incr (read_only)")
        con.execute(f"attach '{whole / 'reachloop.duckdb'}' as whole (read_only)")
        for name in manifest:
            assert con.execute(
                f"""select (select count(*) from (from incr.main."{name}" except all from whole.main."{name}")),
                           (select count(*) from (from whole.main."{name}" except all from incr.main."{name}"))"""
            ).fetchone() == (0, 0), name
        assert con.execute(
            "select reach_ratio from incr.main.fct_shares where share_id = ?", [planted[0]]
        ).fetchone() == (None,)

    def digests(version: Path) -> dict[str, str]:
        return {str(f.relative_to(version)): hashlib.sha256(f.read_bytes()).hexdigest()
                for f in sorted((version / "parquet").rglob("*.parquet"))}

    first, again = digests(current), digests(Path(os.path.realpath(whole / "current")))
    assert first.keys() == again.keys() and [f for f in first if first[f] != again[f]] == []
    with warehouse(settings) as con:  # as a full rebuild has it again
        con.execute("update marts.fct_shares set reach_ratio = ? where share_id = ?", [planted[1], planted[0]])


def _assert_gate_2_catches_what_the_build_made(settings: Settings, scratch: Path) -> None:
    """A metrics snapshot that gate 1 let through with negative impressions (here: planted in
    the log after landing, its batch marked as passed) makes the selected build write a bad
    fct_shares row: gate 2 fails on it, and nothing is published."""
    from builds.gates import GateFailure
    from builds.publish import current_version
    from builds.steps import build

    with warehouse(settings) as con:
        snapshot = con.execute(
            """select share_id, strftime(observed_at + interval 1 day, '%Y-%m-%dT%H:%M:%S+0000') as observed_at,
                      impressions, reactions, comments, reshares
               from staging.stg_event_log__share_metrics order by observed_at desc, share_id limit 1"""
        ).df()
    snapshot.to_csv(scratch / "share_metrics-late.csv", index=False)
    _land(settings, [scratch / "share_metrics-late.csv"])
    with warehouse(settings) as con:
        (batch_id,) = con.execute("select batch_id from meta.batches order by log_position desc limit 1").fetchone()
        con.execute("update raw.share_metrics set impressions = -5 where batch_id = ?", [batch_id])
        con.execute("insert into meta.batch_gates values (?, 'planted', 'passed', now())", [batch_id])
    published = current_version(settings.published)
    with pytest.raises(GateFailure, match="fct_shares"):
        build(settings)
    assert current_version(settings.published) == published
    with warehouse(settings) as con:
        assert con.execute(
            "select models_built is not null from meta.builds order by started_at desc limit 1"
        ).fetchone() == (True,)  # a selected build, checked on the rows it wrote
