"""``reachloop report``: a self-contained HTML report with charts, from the published marts."""

from __future__ import annotations

import argparse
from pathlib import Path

from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from reachloop.outputs import output_file


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report with charts from the published marts",
        description="Read published/reachloop.duckdb (read-only) and write one HTML file with every "
        "chart and plotly.js inlined: it opens offline, in any browser. Charts: reach vs network and "
        "the amplification multiplier, engagement over time, the colleague bubble and audience "
        "overlap, posting cadence vs reach, the funnel from shares to won deals, attributed revenue "
        "by content and department under each model, the top deals and their paths.",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where to write the report (default: $REACHLOOP_HOME/report.html)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="open the report in headless Chromium, fail unless every chart rendered without "
        "console errors, and save a full-page screenshot next to it (FILE with .png)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reports.html_report import build_report

    settings = Settings.from_env(args.home)
    path = build_report(settings, args.out and output_file(args.out))
    print(path)
    if args.check:
        from reports.browser import render_check

        result = render_check(path, path.with_suffix(".png"))
        print(
            f"checked in headless Chromium: {len(result.charts)} charts rendered in {result.seconds:.1f}s; "
            f"screenshot {result.screenshot}"
        )
        if result.empty_charts:
            raise ReachloopError(f"charts did not render: {', '.join(result.empty_charts)}")
        if result.console_errors:
            raise ReachloopError(f"console errors in the report: {result.console_errors[0]}")
        if not result.charts:
            raise ReachloopError("the report has no charts")
    return 0
