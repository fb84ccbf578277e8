"""Grain: planned content item × suggested sharer. The share plan, computed by planner/ (greedy
maximum coverage with lazy gains, the cadence rules, the timing): the algorithm lives there,
once, with its tests; this model only moves the data and passes the vars (set as this model's
config meta in _planner__models.yml)."""

import pyarrow.compute as pc

from planner.cadence import Cadence
from planner.plan import DUCKDB_MEMBER_HALVES, PlanSettings, number_members, plan_shares


def _ids_as_categories(relation, column):
    """The relation as a DataFrame whose ``column`` of string ids is categorical: a Python
    string per distinct id, not per row. The planner only looks ids up; SF100's 5.8 million
    audience rows were read in 0.9-1.7 CPU s (.df()), this way in 0.2-0.3."""
    table = relation.to_arrow_table()
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pc.dictionary_encode(table[column])).to_pandas()


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds the keys a Python model reads by these literal calls: no helper around them
    settings = PlanSettings(
        sharers=int(dbt.config.meta_get("plan_sharers")),
        cadence=Cadence(
            min_hours_between_posts=float(dbt.config.meta_get("min_hours_between_posts")),
            max_posts_per_week=int(dbt.config.meta_get("max_posts_per_week")),
        ),
        horizon_days=int(dbt.config.meta_get("plan_horizon_days")),
        default_hour=int(dbt.config.meta_get("plan_default_hour")),
    )
    contents = dbt.ref("int_share_plan_contents").project("content_id, published_at, plan_at").df()
    candidates = dbt.ref("int_share_plan_candidates").project("employee_id, usual_hour, audience_basis").df()
    audiences = _ids_as_categories(
        dbt.ref("int_share_plan_audiences").project(f"employee_id, {DUCKDB_MEMBER_HALVES}"), "employee_id"
    )
    reached = _ids_as_categories(
        dbt.ref("int_share_plan_reached").project(f"content_id, {DUCKDB_MEMBER_HALVES}"), "content_id"
    )
    audiences, reached = number_members(audiences, reached, ["member_high", "member_low"])
    posts = dbt.ref("int_share_plan_posts").project("employee_id, posted_at, content_id").df()
    start = contents["plan_at"].iloc[0] if not contents.empty else None
    return plan_shares(contents, candidates, audiences, reached, posts, start, settings)
