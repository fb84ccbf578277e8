"""The share planner: which opted-in employees should share a content item next, and when, to
reach the most members outside the company (docs/design.md, "Share planner"). Imports nothing
of ours: a dbt Python model, the command line and the bench call it alike."""
