"""reachloop: event-sourced employee-advocacy analytics with closed-loop attribution.

This package is the command line (``cli``, one module per sub-command under ``commands``), the
top floor over the library parts: ``eventlog`` (the ground floor), ``ingestion``,
``generator``, ``builds``, ``reports`` and ``attribution``.
"""

__version__ = "0.1.0"
