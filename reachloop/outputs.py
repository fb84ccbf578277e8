"""Output paths are checked before a command does any work or writes anything: a typo in
``--out`` fails at once with its reason, instead of after a build (or by creating folders
in unexpected places)."""

from __future__ import annotations

import os
from pathlib import Path

from eventlog.errors import ReachloopError


def output_file(path: Path, option: str = "--out") -> Path:
    """A file to write: its folder must already exist and be writable; it must not be a folder."""
    target = path.expanduser().resolve()
    if target.is_dir():
        raise ReachloopError(f"{option} {path} is a folder: give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise ReachloopError(f"{option} {path}: folder {folder} does not exist (create it first)")
    if not os.access(folder, os.W_OK):
        raise ReachloopError(f"{option} {path}: cannot write to {folder}")
    return target


def output_folder(path: Path, option: str = "--out") -> Path:
    """A folder to create or fill: no file may stand in its way, and the nearest folder that
    exists on the way must be writable."""
    target = path.expanduser().resolve()
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ReachloopError(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ReachloopError(f"{option} {path}: cannot write to {existing}")
    return target
