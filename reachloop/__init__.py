"""reachloop: event-sourced employee-advocacy analytics with closed-loop attribution."""

__version__ = "0.1.0"
