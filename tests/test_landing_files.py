"""Landing reads only what it was given, and says what it did with every file: landed, skipped
with a reason (a symlink, an empty file, an unsupported type) or failed with a reason — a
failed file never stops the others, and makes the exit status non-zero. Compressed text files
(.gz, .zst) are read."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import duckdb

from reachloop.cli import main
from tests.helpers import query, write_dedented

SHARE = (
    "share_id,author_type,author_id,network,posted_at,tracking_token,content_id\n"
    "{id},employee,e1,linkedin,2026-03-01T10:00:00Z,t-{id},c1\n"
)


def _share(path: Path, share_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SHARE.format(id=share_id))
    return path


def test_every_file_is_landed_skipped_or_failed_with_its_reason(settings, tmp_path, capsys) -> None:
    landing, outside = tmp_path / "in", tmp_path / "outside"
    _share(landing / "share-1.csv", "s1")
    # a symlink named like a landing file, pointing at a secret outside the landing folder
    secret = outside / "passwords.csv"
    secret.parent.mkdir(parents=True)
    secret.write_text("share_id,author_type\nhunter2-secret,employee\n")
    (landing / "share-2.csv").symlink_to(secret)
    # a symlinked folder of landing files
    _share(outside / "more" / "share-9.csv", "s9")
    (landing / "more").symlink_to(outside / "more", target_is_directory=True)
    (landing / "notes.txt").write_text("remember the milk\n")
    (landing / "empty-share.csv").write_text("")
    with zipfile.ZipFile(landing / "share-3.zip", "w") as z:
        z.writestr("share-3.csv", SHARE.format(id="s3"))
    (landing / "share-4.parquet").write_text("not parquet at all")  # fails
    _share(landing / "share-5.csv", "s5")  # after the failure: still lands

    assert main(["land", str(landing)]) == 1
    out = capsys.readouterr()
    lines = {line.split()[1].removeprefix(str(landing) + "/"): line for line in out.out.splitlines()[:-1]}
    assert lines["share-1.csv"].startswith("landed")
    assert lines["share-5.csv"].startswith("landed")
    assert lines["share-2.csv:"].startswith("skipped") and "symlink: not followed" in lines["share-2.csv:"]
    assert lines["more:"].startswith("skipped") and "symlink to a folder" in lines["more:"]
    assert "a .txt file is not read" in lines["notes.txt:"]
    assert "an empty file" in lines["empty-share.csv:"]
    assert "a .zip archive is not read" in lines["share-3.zip:"]
    assert lines["share-4.parquet:"].startswith("failed")
    assert "6 skipped" not in out.out and "5 skipped, 1 failed" in out.out
    assert "1 file(s) not landed" in out.err and "share-4.parquet" in out.err
    # nothing read through a symlink, anywhere
    assert query(settings.warehouse, "select share_id from raw.share order by 1") == [("s1",), ("s5",)]
    assert query(
        settings.warehouse, "select count(*) from meta.quarantine where raw like '%hunter2%'"
    ) == [(0,)]


def test_a_folder_of_only_skipped_files_lands_nothing_and_exits_zero(settings, tmp_path, capsys) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("hi\n")
    assert main(["land", str(tmp_path / "in")]) == 0
    assert "0 files landed" in capsys.readouterr().out


def test_gzip_and_zstd_compressed_text_files_are_read(settings, pii_key, tmp_path) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    with gzip.open(landing / "share-1.csv.gz", "wt") as fh:
        fh.write(SHARE.format(id="s1"))
    write_dedented(
        tmp_path / "plain" / "share-2.jsonl",
        """
        {"share_id": "s2", "author_type": "employee", "author_id": "e1", "network": "linkedin", "posted_at": "2026-03-01T10:00:00Z", "tracking_token": "t2"}
        """,
    )
    _share(tmp_path / "plain" / "share-3.tsv", "s3").write_text(
        SHARE.format(id="s3").replace(",", "\t")
    )
    with duckdb.connect() as con:  # DuckDB writes zstd: compress with it
        con.execute(
            f"copy (select * from read_csv('{tmp_path}/plain/share-2.jsonl', columns={{'l': 'varchar'}},"
            f" header=false, delim=E'\\x01', quote='')) to '{landing}/share-2.jsonl.zst'"
            " (format csv, header false, quote '', compression zstd)"
        )
    with gzip.open(landing / "share-3.tsv.gz", "wt") as fh:
        fh.write((tmp_path / "plain" / "share-3.tsv").read_text())
    assert main(["land", str(landing)]) == 0
    assert query(settings.warehouse, "select share_id from raw.share order by 1") == [("s1",), ("s2",), ("s3",)]
    assert query(settings.warehouse, "select count(*) from meta.quarantine") == [(0,)]
