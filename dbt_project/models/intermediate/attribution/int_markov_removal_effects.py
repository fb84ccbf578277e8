"""Grain: Markov state. The removal effect of every state of the chain learnt from all
journeys (int_markov_transitions_counted), computed exactly by attribution/markov.py: the
linear algebra lives there, once, with its tests; this model only moves the data."""

import pandas as pd

from attribution.markov import removal_effects


def model(dbt, session):
    dbt.config(materialized="table")
    transitions = dbt.ref("int_markov_transitions_counted").df()
    if transitions.empty:  # no journeys yet: an empty table with the right columns
        return pd.DataFrame(
            {
                "state": pd.Series(dtype="string"),
                **{
                    c: pd.Series(dtype="float64")
                    for c in ("reach_probability", "conversion_probability", "removal_effect", "p_conversion")
                },
            }
        )
    return removal_effects(transitions)
