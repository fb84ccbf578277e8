"""``reachloop docs``: dbt docs (every mart, column, test, exposure and the lineage) as HTML."""

from __future__ import annotations

import argparse

from eventlog.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "docs",
        help="generate the dbt docs site (marts, columns, tests, exposures, lineage)",
        description="Run `dbt docs generate` in process against the warehouse (build first: the "
        "catalog reads the built tables). Writes the docs under $REACHLOOP_HOME/dbt/docs/: "
        "index.html with manifest.json and catalog.json (serve the folder, e.g. python -m "
        "http.server), and static_index.html, one file that opens straight from disk.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builds.dbt_docs import generate_docs

    target = generate_docs(Settings.from_env(args.home))
    print(target / "index.html")
    print(f"  one file, opens from disk: {target / 'static_index.html'}")
    print(f"  or serve the folder:       python -m http.server --directory {target}")
    return 0
