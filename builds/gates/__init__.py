"""Quality gates: Great Expectations suites kept as code.

- gate 1 checks each landed batch that has not passed yet (contract, keys, allowed values,
  non-negative counts, references, freshness, volume against recent batches);
- gate 2 checks the marts a build made (columns, grain, ranges, attribution credits summing
  to 1 per deal and model, size against the last publish).

A critical failure raises :class:`GateFailure` (a ReachloopError naming the check, the batch
and example rows) before anything is published; warnings are recorded and shown.
"""

from builds.gates.runner import CheckResult, GateFailure, GateReport, docs_dir, run_gate_1, run_gate_2

__all__ = ["CheckResult", "GateFailure", "GateReport", "docs_dir", "run_gate_1", "run_gate_2"]
