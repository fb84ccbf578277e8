"""BENCHMARKS.md keeps its hand-written analysis and each generated section when one run is re-rendered."""

import json
from pathlib import Path

from bench import report

RESULT = {
    "started": "20260101T000000Z",
    "command": "python -m bench.run --scales 0.01",
    "machine": {"cores": 2, "ram_gib": 1.0, "cpu": "test", "python": "3.11", "duckdb": "2", "dbt_core": "1", "pandas": "3"},
    "memory_limit": "3GB",
    "scales": {"0.01": {"info": {"rows_in_files": 1234}, "stages": {}}},
}


def test_named_sections_are_replaced_independently(tmp_path: Path):
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nhand-written intro\n")
    md.write_text(report.markdown(RESULT, md))
    md.write_text(report.markdown({**RESULT, "started": "SF100RUN"}, md, "sf100"))
    md.write_text(md.read_text() + "\nhand-written outro\n")

    md.write_text(report.markdown({**RESULT, "started": "SECONDMAIN"}, md))
    text = md.read_text()

    assert "hand-written intro" in text and "hand-written outro" in text
    assert "SECONDMAIN" in text and "20260101T000000Z" not in text  # main run replaced
    assert text.count("SF100RUN") == 1  # the named section kept, once
    for begin, end in (report.markers(), report.markers("sf100")):
        assert text.count(begin) == 1 and text.count(end) == 1
    assert text.index(report.markers()[1]) < text.index(report.markers("sf100")[0])


def test_report_command_renders_a_named_section(tmp_path: Path):
    results, md = tmp_path / "r.json", tmp_path / "B.md"
    results.write_text(json.dumps(RESULT))
    md.write_text("# Benchmarks\n")
    report.main([str(results), str(md), "--section", "sf100"])
    assert report.markers("sf100")[0] in md.read_text()
    assert report.markers()[0] not in md.read_text()


def _day_section(tmp_path: Path, info: dict) -> str:
    """BENCHMARKS.md rendered from an SF10 day batch's build and the run's info."""
    incr = {"wall_s": 50.0, "cpu_s": 60.0, "max_rss_mb": 1.0, "rows": 1, "rows_per_s": None, "extra": {
        "models": 72, "tests": 3, "seconds": {"gate 1": 1.5, "dbt build": 33.9, "gate 2": 2.8, "publish": 11.0},
        "cpu_seconds": {"gate 1": 1.4, "dbt build": 39.2, "gate 2": 3.2, "publish": 13.8}}}
    scale = {"info": {"rows_in_files": 1, **info}, "stages": {"incr.build": incr}}
    md = tmp_path / "B.md"
    md.write_text(report.markdown({**RESULT, "scales": {"10": scale}}, md))
    return md.read_text()


def test_the_day_batch_build_profile_is_reported(tmp_path: Path):
    """A missed day-batch target owes its profile: the build's CPU by step, dbt's time outside
    the nodes, and the heaviest nodes, from the run's own figures."""
    text = _day_section(tmp_path, {"incr_dbt_nodes": {
        "elapsed": 27.4, "top": [["model.reachloop.mart_audience_pairs", 1.79]]}})
    assert "CPU by step: gate 1 1.4 s, dbt build 39.2 s, gate 2 3.2 s, publish 13.8 s; 72 models" in text
    assert "27.4 s running nodes and 6.5 s before and after them" in text
    assert "mart_audience_pairs 1.79" in text


def test_the_floors_split_into_sql_and_dbt_is_reported(tmp_path: Path):
    """The profiled floor build (bench.build_profile) says how much of the node time is SQL and
    how much dbt's own: the part of a missed target no SQL change can reach."""
    profile = {"nodes": 81, "node_s": 40.4, "sql_s": 22.2, "commit_s": 2.2, "checkpoint_s": 1.6,
               "checkpoints": 5, "statements": 520, "python_model_s": 3.2, "dbt_per_node_s": 12.9,
               "dbt_per_node_ms": 159.0, "heaviest_sql": [["mart_program_value", 1.77]]}
    text = _day_section(tmp_path, {"one_row_profile": profile})
    assert "40.4 s of node time (81 nodes, 520 statements), 22.2 s is SQL, 2.2 s COMMITs" in text
    assert "12.9 s dbt's own per-node Python (about 159 ms a node)" in text
    assert "mart_program_value 1.77" in text


def test_the_publishs_heaviest_marts_are_reported(tmp_path: Path):
    """What each mart cost the day's publish (publication.json's ``seconds``, read by
    bench.run.publish_costs) is in the profile too."""
    from bench.run import publish_costs

    version = tmp_path / "published" / "versions" / "v1"  # the layout builds.publish writes
    version.mkdir(parents=True)
    (tmp_path / "published" / "current").symlink_to("versions/v1")
    version.joinpath("publication.json").write_text(json.dumps({"marts": {
        "mart_a": {"seconds": {"wall": 1.0, "cpu": 1.5}}, "mart_b": {"seconds": {"wall": 9.0, "cpu": 12.25}},
        "mart_old": {}}}))  # published before marts said what they cost
    costs = publish_costs(tmp_path / "published")
    assert costs == [("mart_b", 12.25), ("mart_a", 1.5)]
    text = _day_section(tmp_path, {"incr_publish": costs})
    assert "Its publish's heaviest marts (CPU s): mart_b 12.25, mart_a 1.50." in text


def test_the_tiny_build_target_is_judged_on_builds_that_build():
    """A build again with nothing landed selects no node, so it cannot stand for "a build of
    SF0.01": the verdict takes the slower of a fresh home's first build and a full rebuild."""
    def stage(name: str, wall: float) -> dict:
        return {"stage": name, "wall_s": wall, "cpu_s": wall, "max_rss_mb": 1.0}

    def verdict(first: float, full: float) -> tuple[str, str, str]:
        result = {"fixed_cost": {"stages": {"tiny.build": stage("tiny.build", first),
                                            "tiny.full": stage("tiny.full", full),
                                            "tiny.noop": stage("tiny.noop", 0.7)}}}
        return next(r for r in report.fixed_cost_targets(result) if r[0].startswith("SF0.01: a build <"))

    assert verdict(10.9, 4.0)[2] == "MISSES"
    assert verdict(5.0, 6.5)[2] == "MISSES"
    held = verdict(5.0, 4.0)
    assert held[2] == "holds" and "tiny.build 5.0 s" in held[1] and "tiny.full 4.0 s" in held[1]
