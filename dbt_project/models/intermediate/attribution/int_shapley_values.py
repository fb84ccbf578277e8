"""Grain: state. The Shapley value of every state of every journey (int_journey_touches_sequenced),
computed exactly over the coalitions that occur by attribution/shapley.py: the game and its
closed form live there, once, with their tests; this model only moves the data."""

import pandas as pd

from attribution.shapley import shapley_values


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
            }
        )
    return shapley_values(journeys)
