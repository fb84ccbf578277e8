"""A build, write-audit-publish: gate 1 → dbt build → gate 2 → publish (``steps``).

``dbt_build`` runs the dbt project in process, ``gates`` holds the quality gates, ``publish``
swaps the checked marts in for readers. State lives in the warehouse's ``meta.builds``.
"""
