"""Whether every rule of a gate provably holds, decided without Great Expectations.

Importing GX costs 2–3 s of CPU per process (it loads every expectation, scipy.stats
included) to judge frames of a few hundred rows; a build on a quiet day breaks no rule. So
the gates first ask this module whether each rule of each frame holds, for the few rule
kinds the frames use and by the same reading GX has of them (missing values are skipped by
column-map rules; a pair rule skips rows where both values are missing). Only when every
rule of every frame holds is GX skipped: any rule that breaks, or that this module cannot
read, sends the whole gate to GX, which then judges every rule, renders the Data Docs and
names what failed. A wrong "holds" here would hide a failure, so the reading is strict and
``tests/test_gates.py`` checks it against GX's verdicts on the same frames.
"""

from __future__ import annotations

import pandas as pd

from builds.gates.suites import Rule

# The condition_parser GX applies row_condition with (pandas' DataFrame.query).
_PANDAS = "pandas"


def holds(rule: Rule, df: pd.DataFrame) -> bool:
    """True only if GX would find ``rule`` met by ``df``; False if it breaks or is not read here."""
    kw = dict(rule.kwargs)
    if "row_condition" in kw:
        if kw.pop("condition_parser", None) != _PANDAS:
            return False
        df = df.query(kw.pop("row_condition"))
    reader = _READERS.get(rule.expectation)
    if reader is None or not set(kw) <= reader[0]:
        return False
    try:
        return bool(reader[1](df, **kw))
    except (KeyError, TypeError, ValueError):
        return False


def _present(df: pd.DataFrame, column: str) -> pd.Series:
    return df[column][df[column].notna()]


def _between(df: pd.DataFrame, column: str, min_value=None, max_value=None) -> bool:
    values = pd.to_numeric(_present(df, column), errors="raise")
    if min_value is not None and not (values >= min_value).all():
        return False
    return max_value is None or bool((values <= max_value).all())


def _not_null(df: pd.DataFrame, column: str) -> bool:
    return bool(df[column].notna().all())


def _pair_equal(df: pd.DataFrame, column_A: str, column_B: str) -> bool:  # noqa: N803 — GX's names
    a, b = df[column_A], df[column_B]
    both_missing = a.isna() & b.isna()
    return bool(((a == b) | both_missing).all())


def _columns_include(df: pd.DataFrame, column_set: list[str], exact_match: bool = True) -> bool:
    return not exact_match and set(column_set) <= set(df.columns)


# expectation → (the arguments read, the reader)
_READERS = {
    "ExpectColumnValuesToBeBetween": ({"column", "min_value", "max_value"}, _between),
    "ExpectColumnValuesToNotBeNull": ({"column"}, _not_null),
    "ExpectColumnPairValuesToBeEqual": ({"column_A", "column_B"}, _pair_equal),
    "ExpectTableColumnsToMatchSet": ({"column_set", "exact_match"}, _columns_include),
}
