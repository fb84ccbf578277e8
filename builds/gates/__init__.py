"""Quality gates: Great Expectations suites kept as code.

- gate 1 checks each landed batch that has not passed yet (contract, keys, allowed values,
  non-negative counts, references, freshness, volume against recent batches);
- gate 2 checks the marts a build made against what their yml declares, read from the
  manifest of that dbt build (contract columns, not null, unique keys, accepted values,
  ranges, expressions, group sums such as attribution credits summing to 1 per deal and
  model), and their size against the last publish.

A critical failure raises :class:`GateFailure` (a ReachloopError naming the check, the batch
and example rows) before anything is published; warnings are recorded and shown.
"""

from builds.gates.runner import CheckResult, GateFailure, GateReport, docs_dir, run_gate_1, run_gate_2

__all__ = ["CheckResult", "GateFailure", "GateReport", "docs_dir", "run_gate_1", "run_gate_2"]
