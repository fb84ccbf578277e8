"""Gate verdicts told without Great Expectations, for the few rule kinds the gates' frames use.

Importing GX costs 2–3 s of CPU per process (it loads every expectation, scipy.stats
included) to judge frames of a few hundred rows. So the gates first read each rule of each
frame here, by the same reading GX has of them (column-map rules skip missing values; a
pair rule skips rows where both values are missing; a row condition filters the frame
first, as GX's pandas condition parser does), and get the rows GX would list as unexpected.
A build whose rules all hold, or only warn, is recorded from these readings; GX is imported
only when a critical rule breaks (it then judges the whole gate, renders the Data Docs and
names what failed) or when a rule is not read here. A wrong reading would hide a failure or
invent a warning, so it is strict, and ``tests/test_gates.py`` checks it against GX's verdicts
on the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from builds.gates.suites import Rule

# The condition_parser GX applies row_condition with (pandas' DataFrame.query).
_PANDAS = "pandas"


@dataclass(frozen=True)
class Reading:
    """What GX would report for one rule on one frame: the rows it judged (after the row
    condition) and those it would list as unexpected."""

    element_count: int
    unexpected: pd.DataFrame

    @property
    def success(self) -> bool:
        return self.unexpected.empty


def read(rule: Rule, df: pd.DataFrame) -> Reading | None:
    """The rule's reading on ``df``, or None when this module does not read it (GX must)."""
    kw = dict(rule.kwargs)
    if "row_condition" in kw:
        if kw.pop("condition_parser", None) != _PANDAS:
            return None
        df = df.query(kw.pop("row_condition"))
    reader = _READERS.get(rule.expectation)
    if reader is None or not set(kw) <= reader[0]:
        return None
    try:
        broken = reader[1](df, **kw)
    except (KeyError, TypeError, ValueError):
        return None
    return None if broken is None else Reading(len(df), df[broken])


def holds(rule: Rule, df: pd.DataFrame) -> bool:
    """True only if GX would find ``rule`` met by ``df``; False if it breaks or is not read here."""
    reading = read(rule, df)
    return reading is not None and reading.success


# Each reader returns a boolean mask of the unexpected rows (None: a table rule that breaks,
# which only GX describes).


def _between(df: pd.DataFrame, column: str, min_value=None, max_value=None) -> pd.Series:
    values = pd.to_numeric(df[column], errors="raise")
    present = values.notna()
    low = values < min_value if min_value is not None else False
    high = values > max_value if max_value is not None else False
    return present & (low | high)


def _not_null(df: pd.DataFrame, column: str) -> pd.Series:
    return df[column].isna()


def _pair_equal(df: pd.DataFrame, column_A: str, column_B: str) -> pd.Series:  # noqa: N803 — GX's names
    a, b = df[column_A], df[column_B]
    return ~((a == b) | (a.isna() & b.isna()))


def _columns_include(df: pd.DataFrame, column_set: list[str], exact_match: bool = True) -> pd.Series | None:
    met = not exact_match and set(column_set) <= set(df.columns)
    return pd.Series(False, index=df.index) if met else None


# expectation → (the arguments read, the reader)
_READERS = {
    "ExpectColumnValuesToBeBetween": ({"column", "min_value", "max_value"}, _between),
    "ExpectColumnValuesToNotBeNull": ({"column"}, _not_null),
    "ExpectColumnPairValuesToBeEqual": ({"column_A", "column_B"}, _pair_equal),
    "ExpectTableColumnsToMatchSet": ({"column_set", "exact_match"}, _columns_include),
}
