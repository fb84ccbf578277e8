"""The share planner's library (planner/): greedy maximum coverage with lazy gains (CELF),
the cadence rules, and a whole plan on hand-made audiences, every figure worked out by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from planner.cadence import DAY, HOUR, Cadence, Calendar
from planner.coverage import Audiences, greedy_max_coverage
from planner.plan import PlanSettings, number_members, plan_shares


def csr(audiences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.concatenate(([0], np.cumsum([len(a) for a in audiences])))
    return offsets, np.array(list(itertools.chain.from_iterable(audiences)), dtype=np.int64)


def test_greedy_picks_the_largest_new_reach_each_time() -> None:
    # A={0,1,2,3}, B={2,3,4}, C={4,5}, D={0,1}: A adds 4; then C adds 2 (4, 5), B only 1 (4)
    offsets, members = csr([[0, 1, 2, 3], [2, 3, 4], [4, 5], [0, 1]])
    picks = greedy_max_coverage(offsets, members, np.zeros(6, dtype=bool), k=3)
    assert [(p.candidate, p.gain) for p in picks] == [(0, 4), (2, 2)]  # then nobody adds anyone: stop


def test_members_already_reached_count_as_covered_and_ineligible_are_skipped() -> None:
    offsets, members = csr([[0, 1, 2, 3], [2, 3, 4], [4, 5], [0, 1]])
    covered = np.zeros(6, dtype=bool)
    covered[[0, 1]] = True  # reached by earlier shares: A now adds 2, B 3, C 2
    picks = greedy_max_coverage(offsets, members, covered, k=2)
    assert [(p.candidate, p.gain) for p in picks] == [(1, 3), (2, 1)]
    assert covered.tolist() == [True, True, True, True, True, True]
    eligible = np.array([True, False, True, True])
    picks = greedy_max_coverage(offsets, members, np.zeros(6, dtype=bool), k=2, eligible=eligible)
    assert [(p.candidate, p.gain) for p in picks] == [(0, 4), (2, 2)]


def test_a_turned_down_candidate_leaves_room_for_the_next_best() -> None:
    offsets, members = csr([[0, 1, 2, 3], [2, 3, 4], [4, 5], [0, 1]])
    picks = greedy_max_coverage(offsets, members, np.zeros(6, dtype=bool), k=2, accept=lambda i, g: i != 0)
    # without A: B adds 3 (2, 3, 4), then D 2 (0, 1) beats C's 1 (5)
    assert [(p.candidate, p.gain) for p in picks] == [(1, 3), (3, 2)]


def plain_greedy(audiences: list[set[int]], k: int) -> list[tuple[int, int]]:
    covered: set[int] = set()
    out = []
    for _ in range(k):
        gains = [len(a - covered) for a in audiences]
        best = max(range(len(audiences)), key=lambda i: (gains[i], -i))
        if gains[best] == 0:
            break
        out.append((best, gains[best]))
        covered |= audiences[best]
    return out


def test_lazy_evaluation_makes_the_plain_greedys_choices_with_fewer_recomputations() -> None:
    rng = np.random.default_rng(3)
    audiences = [sorted(set(rng.integers(0, 3000, rng.integers(5, 400)).tolist())) for _ in range(300)]
    offsets, members = csr(audiences)
    picks = greedy_max_coverage(offsets, members, np.zeros(3000, dtype=bool), k=25)
    assert [(p.candidate, p.gain) for p in picks] == plain_greedy([set(a) for a in audiences], 25)
    assert sum(p.recomputations for p in picks) < 25 * 300 / 3  # the plain greedy: 300 per pick


def plain_greedy_with(
    audiences: list[set[int]], covered: set[int], k: int, eligible: list[bool], refused: set[int]
) -> list[tuple[int, int]]:
    """The plain greedy with members already covered, candidates masked out and candidates whose
    turn is refused (they leave for good, no pick is spent)."""
    covered, left, out = set(covered), {i for i in range(len(audiences)) if eligible[i]}, []
    while len(out) < k:
        gains = {i: len(audiences[i] - covered) for i in left}
        best = max(left, key=lambda i: (gains[i], -i), default=None)
        if best is None or gains[best] == 0:
            break
        left.discard(best)
        if best not in refused:
            out.append((best, gains[best]))
            covered |= audiences[best]
    return out


def test_one_index_serves_many_items_as_the_plain_greedy_would() -> None:
    # A plan runs the greedy once per item over the same audiences (planner.plan): the index
    # (each member's candidates, the candidates by size) is built once, each item brings its own
    # covered members, eligibility and refusals, and one cover array is cleared between items.
    rng = np.random.default_rng(11)
    audiences = [sorted(set(rng.integers(0, 800, rng.integers(0, 60)).tolist())) for _ in range(120)]
    audiences[3] = audiences[7] = list(range(700, 790))  # the largest, equal: the lower index first
    offsets, members = csr(audiences)
    indexed = Audiences(offsets, members, 800)
    covered = np.zeros(800, dtype=bool)
    for _ in range(40):
        reached = np.unique(rng.integers(0, 800, rng.integers(0, 300)))
        eligible = rng.random(120) < 0.8
        refused = set(rng.choice(120, 10, replace=False).tolist())
        refuse = refused.__contains__
        covered[reached] = True
        picks = indexed.greedy(covered, reached, 6, eligible, lambda i, gain, refuse=refuse: not refuse(i))
        want = plain_greedy_with(
            [set(a) for a in audiences], set(reached.tolist()), 6, eligible.tolist(), refused
        )
        assert [(p.candidate, p.gain) for p in picks] == want
        one_off = greedy_max_coverage(
            offsets,
            members,
            np.isin(np.arange(800), reached),
            6,
            eligible,
            lambda i, gain, refuse=refuse: not refuse(i),
        )
        assert [(p.candidate, p.gain) for p in one_off] == want
        covered[:] = False


def test_cadence_keeps_posts_a_day_apart_and_at_most_three_in_any_week() -> None:
    c = Cadence(min_hours_between_posts=24, max_posts_per_week=3)
    cal = Calendar([0])
    assert not cal.is_free(23 * HOUR, c) and not cal.is_free(-23 * HOUR, c)
    assert cal.is_free(24 * HOUR, c)
    cal = Calendar([0, 2 * DAY, 4 * DAY])
    assert not cal.is_free(6 * DAY, c)  # [0, 7 days) would hold four
    assert not cal.is_free(-2 * DAY, c)  # so would [-2 days, 5 days)
    assert cal.is_free(7 * DAY, c)  # every week holding day 7 holds at most days 2, 4 and 7
    with pytest.raises(ValueError):
        Cadence(max_posts_per_week=0)


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_a_plan_by_hand() -> None:
    # Four opted-in candidates; member 9 is nobody's. Item c1 was shared by e4 already, which
    # reached members 0 and 1; item c2 by nobody.
    candidates = pd.DataFrame(
        {
            "employee_id": ["e1", "e2", "e3", "e4"],
            "usual_hour": [8, None, 18, 12],
            "audience_basis": ["observed", "engaged", "observed", "observed"],
        }
    )
    audiences = pd.DataFrame(
        [("e1", m) for m in (0, 1, 2, 3)]
        + [("e2", m) for m in (2, 3, 4)]
        + [("e3", m) for m in (4, 5)]
        + [("e4", m) for m in (0, 1)],
        columns=["employee_id", "member_key"],
    )
    contents = pd.DataFrame(
        {"content_id": ["c2", "c1"], "published_at": [t("2026-01-04 12:00"), t("2026-01-02")]}
    )
    reached = pd.DataFrame({"content_id": ["c1", "c1"], "member_key": [0, 1]})
    # e3 posted on the evening before the plan starts
    posts = pd.DataFrame(
        {
            "employee_id": ["e4", "e3"],
            "posted_at": [t("2026-01-03 12:00"), t("2026-01-04 19:00")],
            "content_id": ["c1", None],
        }
    )
    plan = plan_shares(
        contents, candidates, audiences, reached, posts, t("2026-01-05 10:00"), PlanSettings(sharers=3)
    )
    got = plan[
        [
            "content_id",
            "employee_id",
            "sharer_rank",
            "suggested_at",
            "expected_new_members",
            "cumulative_new_members",
            "already_reached",
            "audience_size",
            "usual_hour",
        ]
    ]
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        # c1 first (older). e4 shared it: not a candidate. e2 adds 2, 3, 4 (e1 adds 2, 3);
        # day 0 at e2's default 09:00 is before the start (10:00): day 1.
        ("c1", "e2", 1, t("2026-01-06 09:00"), 3, 3, 2, 3, 9),
        # then e3 adds 5 (e1 adds nothing new): day 1 is taken by e2, day 2 at 18:00
        ("c1", "e3", 2, t("2026-01-07 18:00"), 1, 4, 2, 2, 18),
        # c2: e1 adds 0-3 (4), e3 then adds 4, 5 (2) over e2's 4 (1); e1 at 08:00 is before the
        # start on day 0: day 1; e3's day 1 is taken, day 2 is within 24 h of e3's c1 share (day 2
        # 18:00, the same slot): day 3
        ("c2", "e1", 1, t("2026-01-06 08:00"), 4, 4, 0, 4, 8),
        ("c2", "e3", 2, t("2026-01-08 18:00"), 2, 6, 0, 2, 18),
    ]
    assert plan["reason"].str.startswith("adds ").all()
    assert ["after its turn" in r for r in plan["reason"]] == [False, True, False, True]
    assert "; 1 day after its turn" in plan["reason"].iloc[1] and "; 2 days after" in plan["reason"].iloc[3]


def test_the_plan_does_not_depend_on_how_members_are_numbered_or_repeated() -> None:
    # The pipeline's member keys are dense numbers (looked up in a table); any other keys take
    # the sort. Repeated reached rows, a null employee id and audiences of non-candidates count
    # for nothing.
    rng = np.random.default_rng(5)
    ids = [f"e{i:02d}" for i in range(30)]
    candidates = pd.DataFrame(
        {"employee_id": ids, "usual_hour": rng.integers(0, 24, 30), "audience_basis": "observed"}
    )
    pairs = {(e, int(m)) for e in ids + ["x1", None] for m in rng.integers(1, 400, 40)}
    audiences = pd.DataFrame(sorted(pairs, key=str), columns=["employee_id", "member_key"])
    contents = pd.DataFrame(
        {"content_id": [f"c{i}" for i in range(8)], "published_at": [t(f"2026-01-0{1 + i % 4}") for i in range(8)]}
    )
    reached = pd.DataFrame(
        {"content_id": [f"c{i}" for i in rng.integers(0, 8, 300)], "member_key": rng.integers(1, 450, 300)}
    )
    posts = pd.DataFrame(
        {
            "employee_id": rng.choice(ids, 40).tolist(),
            "posted_at": [t("2026-01-04") - pd.Timedelta(hours=int(h)) for h in rng.integers(0, 200, 40)],
            "content_id": [f"c{i}" if i < 8 else None for i in rng.integers(0, 16, 40)],
        }
    )
    settings = PlanSettings(sharers=4)
    plan = plan_shares(contents, candidates, audiences, reached, posts, t("2026-01-05 07:00"), settings)
    assert len(plan) > 20 and (plan["already_reached"] > 0).any()
    sparse = lambda frame: frame.assign(member_key=frame["member_key"] * 10**12 + 7)  # noqa: E731
    again = plan_shares(
        contents, candidates, sparse(audiences), sparse(pd.concat([reached, reached])), posts,
        t("2026-01-05 07:00"), settings,
    )
    pd.testing.assert_frame_equal(plan, again)
    alone = audiences[audiences["employee_id"].isin(ids)]
    pd.testing.assert_frame_equal(
        plan, plan_shares(contents, candidates, alone, reached, posts, t("2026-01-05 07:00"), settings)
    )


def test_members_are_numbered_densely_from_their_halves_and_reached_ones_nobody_holds_left_out() -> None:
    # Members as the warehouse's 128-bit numbers' halves: two share their upper half (numbered
    # apart all the same), one reached member is in no audience.
    audiences = pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e2", "e2", "e3"],
            "member_high": np.array([7, 7, 7, 9, 2**63 + 1], dtype=np.uint64),
            "member_low": np.array([1, 2, 1, 5, 2**64 - 1], dtype=np.uint64),
        }
    )
    reached = pd.DataFrame(
        {
            "content_id": ["c1", "c1", "c2"],
            "member_high": np.array([9, 8, 2**63 + 1], dtype=np.uint64),
            "member_low": np.array([5, 5, 2**64 - 1], dtype=np.uint64),
        }
    )
    keyed, reached_keyed = number_members(audiences, reached, ["member_high", "member_low"])
    assert list(keyed.columns) == ["employee_id", "member_key"]
    assert keyed["member_key"].tolist() == [0, 1, 0, 2, 3]
    assert reached_keyed.to_dict("list") == {"content_id": ["c1", "c2"], "member_key": [2, 3]}
    # One column (Spark: the member id itself), and an upper half that tells everyone apart
    ids = number_members(
        audiences.assign(member_number=["a", "b", "a", "d", "e"]).drop(columns=["member_high", "member_low"]),
        pd.DataFrame({"content_id": ["c1"], "member_number": ["e"]}),
        ["member_number"],
    )
    assert ids[0]["member_key"].tolist() == [0, 1, 0, 2, 3] and ids[1]["member_key"].tolist() == [3]
    unique_high = audiences.assign(member_high=np.arange(5, dtype=np.uint64))
    keyed, _ = number_members(unique_high, reached[:0], ["member_high", "member_low"])
    assert keyed["member_key"].tolist() == [0, 1, 2, 3, 4]


def test_the_plan_from_member_numbers_is_the_plan_from_their_dense_rank() -> None:
    # What int_share_plan_audiences handed the planner before (member_key: the dense rank of
    # member_number) and what number_members makes of the numbers in any row order: one plan.
    rng = np.random.default_rng(11)
    ids = [f"e{i:02d}" for i in range(40)]
    candidates = pd.DataFrame(
        {"employee_id": ids, "usual_hour": rng.integers(0, 24, 40), "audience_basis": "observed"}
    )
    numbers = rng.choice(2**62, 300, replace=False).astype(np.uint64) * np.uint64(3)
    pairs = sorted({(e, int(m)) for e in ids for m in rng.choice(numbers, 25)})
    audiences = pd.DataFrame(pairs, columns=["employee_id", "number"])
    reached = pd.DataFrame(
        {"content_id": [f"c{i}" for i in rng.integers(0, 10, 200)], "number": rng.choice(numbers, 200)}
    ).drop_duplicates()
    reached = reached[reached["number"].isin(audiences["number"])]
    contents = pd.DataFrame(
        {
            "content_id": [f"c{i}" for i in range(10)],
            "published_at": [t(f"2026-01-0{1 + i % 4}") for i in range(10)],
        }
    )
    posts = pd.DataFrame({"employee_id": ["e01"], "posted_at": [t("2026-01-04")], "content_id": ["c1"]})
    settings = PlanSettings(sharers=4)
    rank = {int(m): k for k, m in enumerate(sorted(audiences["number"].unique()), start=1)}
    ranked = [
        frame.assign(member_key=frame["number"].map(rank)).drop(columns="number") for frame in (audiences, reached)
    ]
    before = plan_shares(contents, candidates, *ranked, posts, t("2026-01-05 07:00"), settings)
    assert len(before) > 20 and (before["already_reached"] > 0).any()
    for seed in (1, 2):
        shuffled = [frame.sample(frac=1, random_state=seed) for frame in (audiences, reached)]
        # upper parts of a few distinct values: members sharing one are told apart by the rest
        halves = [
            frame.assign(
                high=frame["number"].to_numpy() >> np.uint64(60),
                low=frame["number"].to_numpy() & np.uint64(2**60 - 1),
            ).drop(columns="number")
            for frame in shuffled
        ]
        keyed = number_members(*halves, ["high", "low"])
        now = plan_shares(contents, candidates, *keyed, posts, t("2026-01-05 07:00"), settings)
        pd.testing.assert_frame_equal(before, now)


def test_someone_without_a_free_day_is_passed_over_for_every_item() -> None:
    # e1 has the largest audience but posted at the plan's start: at most one post a week
    # leaves no free day within a 3-day horizon, for c1 nor (already known then) for c2.
    candidates = pd.DataFrame({"employee_id": ["e1", "e2"], "usual_hour": [9, 9], "audience_basis": "observed"})
    audiences = pd.DataFrame(
        [("e1", m) for m in (0, 1, 2)] + [("e2", 3)], columns=["employee_id", "member_key"]
    )
    contents = pd.DataFrame({"content_id": ["c1", "c2"], "published_at": [t("2026-01-01"), t("2026-01-02")]})
    reached = pd.DataFrame({"content_id": pd.Series(dtype=str), "member_key": pd.Series(dtype="int64")})
    posts = pd.DataFrame({"employee_id": ["e1"], "posted_at": [t("2026-01-05 08:00")], "content_id": [None]})
    settings = PlanSettings(sharers=2, cadence=Cadence(min_hours_between_posts=0, max_posts_per_week=1), horizon_days=3)
    plan = plan_shares(contents, candidates, audiences, reached, posts, t("2026-01-05 08:00"), settings)
    # e2 once a week: c1 on day 0, c2 on the next day a week later — beyond the horizon
    assert [tuple(r) for r in plan[["content_id", "employee_id", "suggested_at"]].itertuples(index=False)] == [
        ("c1", "e2", t("2026-01-05 09:00")),
    ]


def test_on_generated_data_the_plan_beats_the_largest_networks() -> None:
    # bench.planner's backtest at SF0.2 (200 employees): for every past item shared by 2+
    # employees, the plan's K picks against the K opted-in employees with the largest networks
    from bench.planner import backtest

    result = backtest(0.2, 42)
    plan, top_k, everyone = (result["strategies"][s] for s in ("plan", "top_k_network", "historical"))
    assert result["items"] >= 20
    assert plan["unique_reach"] > top_k["unique_reach"]
    assert plan["overlap_ratio"] < top_k["overlap_ratio"]
    assert plan["unique_reach"] > everyone["unique_reach"]
