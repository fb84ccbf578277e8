"""Grain: state. The Shapley value of every state of every journey (int_journey_touches_sequenced),
computed exactly over the coalitions that occur by attribution/shapley.py: the game and its
closed form live there, once, with their tests; this model only moves the data.

A journey change moves only the values of the states of its old and new coalitions: a state
keeps its old log_position_through when its value did not move (attribution/stamps.py), so
that int_touches_credited re-credits only the deals on states whose value moved. The build's
log position comes with the transition counts (the same journeys)."""

import pandas as pd

from attribution.shapley import shapley_values
from attribution.stamps import STAMP, carry_stamps, stored_rows


def model(dbt, session):
    dbt.config(materialized="table")
    # one row per journey × distinct state: all the game needs (order and repeats aside)
    steps = dbt.ref("int_journey_touches_sequenced")
    journeys = steps.project("journey_id, state, is_converting").distinct().df()
    if journeys.empty:  # no journeys yet: an empty table with the right columns
        return pd.DataFrame(
            {
                "state": pd.Series(dtype="string"),
                "shapley_value": pd.Series(dtype="float64"),
                "coalitions": pd.Series(dtype="int64"),
                "journeys": pd.Series(dtype="int64"),
                STAMP: pd.Series(dtype="int64"),
            }
        )
    counted = dbt.ref("int_markov_transitions_counted")
    [(position,)] = counted.aggregate("max(log_position_through)").fetchall()
    stored = stored_rows(session, dbt.this, {STAMP}, f"state, shapley_value, {STAMP}")
    return carry_stamps(shapley_values(journeys), stored, "shapley_value", position)
