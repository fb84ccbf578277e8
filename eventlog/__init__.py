"""The event log: the ground floor every other part of reachloop stands on.

Its landing contract (``contract``), the DuckDB warehouse that holds it (``warehouse``), the
batch ledger and operator decisions (``batches``, ``status``), where files live
(``settings``), the one exception (``errors``) and SQL quoting (``sql``). Nothing here
imports any other part of reachloop.
"""
