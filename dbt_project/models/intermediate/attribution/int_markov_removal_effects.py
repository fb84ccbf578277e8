"""Grain: Markov state. The removal effect of every state of the chain learnt from all
journeys (int_markov_transitions_counted), computed exactly by attribution/markov.py: the
linear algebra lives there, once, with its tests; this model only moves the data.

The same counts give the same effects, bit for bit: when the counts did not change since the
last build (the checksum of the counts, sorted, equals the one the stored rows were solved
from), the stored rows are kept as they are and nothing is solved. Otherwise every state is
solved again, and a state keeps its old log_position_through when its removal effect did not
move (attribution/stamps.py), so that int_touches_credited re-credits only the deals on states
whose effect moved."""

import pandas as pd

from attribution.stamps import STAMP, carry_stamps, stored_rows

VALUES = ("reach_probability", "conversion_probability", "removal_effect", "p_conversion")
# Order-independent of the rows, unambiguous whatever the state names hold (JSON-quoted).
CHECKSUM = """select md5(coalesce(string_agg(
        to_json(struct_pack(f := from_state, t := to_state, n := transitions))::varchar, ','
        order by from_state, to_state), '')) as checksum,
    max(log_position_through) as position
from counted"""


def model(dbt, session):
    dbt.config(materialized="table")
    counted = dbt.ref("int_markov_transitions_counted")
    [(checksum, position)] = counted.query("counted", CHECKSUM).fetchall()
    if position is None:  # no journeys yet: an empty table with the right columns
        return pd.DataFrame(
            {
                "state": pd.Series(dtype="string"),
                **{c: pd.Series(dtype="float64") for c in VALUES},
                "transitions_checksum": pd.Series(dtype="string"),
                STAMP: pd.Series(dtype="int64"),
            }
        )
    stored = stored_rows(session, dbt.this, {"transitions_checksum", STAMP})
    if stored is not None and not stored.empty and (stored["transitions_checksum"] == checksum).all():
        return stored
    # Imported here: the solver's SciPy costs about 0.2 s of CPU to import, which a build whose
    # counts did not change need not pay.
    from attribution.markov import removal_effects

    effects = removal_effects(counted.project("from_state, to_state, transitions").df())
    effects["transitions_checksum"] = checksum
    return carry_stamps(effects, stored, "removal_effect", position)
