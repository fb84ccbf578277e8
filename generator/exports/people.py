"""Employees as HR and LinkedIn export them: an HRIS roster (``hr_roster``) and each
employee's own ``Connections.csv`` (``linkedin_connections``).

The roster is taken on the data window's second day: who works here, department, job title,
work email, LinkedIn identity (profile URL and the API's person URN, which engagements
name their actors by) and the advocacy opt-in (a custom field: Yes, No or empty). The
generator models no hiring or leaving: hire and termination dates are empty (some written as
BambooHR's ``0000-00-00``).

Network sizes come only from Connections.csv, whose network size is its row count: one export
per network-size snapshot of the generator, with as many rows as the network had. An export
taken at one of the generator's audience observations lists the observed members with their
profile URLs; every other connection is a row without URL (a member who hides their profile),
which counts in the size but names no one. Connected On dates each connection to the month
the network first had room for it, the same date in every export of the employee.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator import names
from generator.config import DAY, START, YEAR
from generator.exports import vendor_ids
from generator.exports.files import csv_text, seconds, strftime, write_files
from generator.exports.world import World
from generator.ids import stream

ROSTER_DAY = START + DAY  # the roster: taken on the window's second day, at midnight UTC
ROSTER_HEADER = (
    "Employee #", "First Name", "Last Name", "Work Email", "Department", "Job Title", "Hire Date",
    "Termination Date", "LinkedIn", "LinkedIn URN", "Advocacy Opt-In",
)
CONNECTIONS_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On"
# Our own wording, in the shape of the notes LinkedIn writes above the header.
PREAMBLE = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses are'
    ' missing. You will only see email addresses for connections who have allowed their'
    ' connections to see or download their email address."\n'
    "\n"
)
CHUNK_ROWS = 1 << 18  # connections rendered at a time (whole employees)


def write_roster(world: World, root: Path) -> dict[str, int]:
    """``hr_roster/roster-YYYY-MM-DD.csv``: one row per employee, one repeated (an HRIS export
    that lists a person twice), a few emails typed with capitals."""
    ev = world.exported("employee")
    first = ev.table.filter(pc.is_valid(ev.table["department"]))
    # one row per employee: their first snapshot that carries a profile
    _, idx = np.unique(first["employee_id"].to_numpy(zero_copy_only=False), return_index=True)
    emp = first.take(pa.array(np.sort(idx)))
    n = emp.num_rows
    rng = stream(world.seed, "exports:hr_roster")
    email = emp["email"]
    local = pc.list_element(pc.split_pattern(email, "@"), 0)
    parts = pc.split_pattern(pc.replace_substring_regex(local, r"[0-9]+$", ""), ".")
    member = emp["member_id"]
    shouting = pa.array(rng.random(n) < 0.05)
    empty_date = pa.array(np.where(rng.random(n) < 0.3, "0000-00-00", ""), pa.string())
    table = pa.table(
        {
            "Employee #": emp["employee_id"],
            "First Name": pc.utf8_capitalize(pc.list_element(parts, 0)),
            "Last Name": pc.utf8_capitalize(pc.list_element(parts, 1)),
            "Work Email": pc.if_else(shouting, pc.utf8_upper(email), email),
            "Department": emp["department"],
            "Job Title": emp["title"],
            "Hire Date": empty_date,
            "Termination Date": empty_date,
            "LinkedIn": pc.if_else(
                pc.is_valid(member),
                vendor_ids.profile_urls(pc.fill_null(member, vendor_ids.NO_MEMBER)),
                pa.scalar(None, pa.string()),
            ),
            "LinkedIn URN": vendor_ids.member_urns(member),
            # the HRIS's custom field: Yes / No, empty where the employee was never asked
            "Advocacy Opt-In": pc.replace_substring(
                pc.replace_substring(emp["advocate_opt_in"], "true", "Yes"), "false", "No"
            ),
        }
    )
    stamp = strftime(np.array([ROSTER_DAY]), "%Y-%m-%d")[0].as_py()
    rows = pa.table(
        {
            "file": pa.array([f"roster-{stamp}.csv"] * n, pa.string()),
            "order": pa.array(np.arange(n, dtype=np.float64)),
            "line": csv_text(table),
        }
    )
    repeat = rows.take(pa.array([int(rng.integers(0, n))]))
    repeat = repeat.set_column(1, "order", pa.array([float(rng.integers(0, n)) + 0.5]))
    return write_files(root, pa.concat_tables([rows, repeat]), header=",".join(ROSTER_HEADER))


def write_connections(world: World, root: Path) -> dict[str, int]:
    """``linkedin_connections/<employee_id>/Basic_LinkedInDataExport_MM-DD-YYYY/Connections.csv``:
    one per network-size snapshot (the limits date them to the day and add one per audience
    observation), newest connections first as LinkedIn lists them. Written a few hundred
    thousand connections at a time (whole employees): millions of rows at SF1."""
    snaps = _snapshots(world).sort_values(["employee_id", "observed_at"], kind="stable")
    snaps = snaps.reset_index(drop=True)
    rows = np.r_[0, np.cumsum(snaps["network_size"].to_numpy())]  # connections before each export
    employee = snaps["employee_id"].to_numpy()
    cuts = [0]
    for at in np.flatnonzero(employee[1:] != employee[:-1]) + 1:  # per employee, not per row
        if rows[at] - rows[cuts[-1]] >= CHUNK_ROWS:
            cuts.append(int(at))
    cuts.append(len(snaps))
    written: dict[str, int] = {}
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        rng = stream(world.seed, f"exports:linkedin_connections:{i}")
        lines = _connection_rows(world, snaps.iloc[a:b].reset_index(drop=True), rng)
        written |= write_files(root, lines, header=CONNECTIONS_HEADER, frame=_frame)
    return written


def _connection_rows(world: World, snaps: pd.DataFrame, rng: np.random.Generator) -> pa.Table:
    """The lines (file, order, line) of the exports in ``snaps``."""
    c = world.company
    size = snaps["network_size"].to_numpy()
    rows_per_file = np.repeat(np.arange(len(snaps)), size)
    k = np.arange(len(rows_per_file)) - np.repeat(np.cumsum(size) - size, size)
    emp = snaps["employee"].to_numpy()[rows_per_file]
    off = c.net_offsets[emp]
    have = c.net_offsets[emp + 1] - off
    # Connections beyond the generator's drawn network (rare: a network that grew past it) are
    # members of their own, never in any audience.
    member = np.where(
        k < have,
        c.net_members[np.minimum(off + k, len(c.net_members) - 1)],
        (1 << 41) + emp.astype(np.int64) * (1 << 20) + k,
    )
    member_id = c.member_ids(member)
    bits = vendor_ids._bits(member_id)
    named = k < snaps["listed"].to_numpy()[rows_per_file]
    _check_audiences(world, snaps, member_id, named, rows_per_file)

    first, last = vendor_ids.member_names(member_id)
    # profile URLs only where the export names the member: an empty cell elsewhere
    urls = _url_variants(vendor_ids.profile_urls(member_id.filter(pa.array(named))), rng)
    slot = np.where(named, np.cumsum(named), 0)
    url = pa.concat_arrays([pa.array([""], pa.string()), urls]).take(pa.array(slot))
    connected = _connected_on(c.size_by_month[emp], k, bits)
    days, at = np.unique(connected, return_inverse=True)  # a few thousand days, many rows
    connected_text = strftime(days, "%d %b %Y").take(pa.array(at.ravel()))
    unreadable = pa.array(rng.random(len(k)) < 0.0005)
    table = pa.table(
        {
            "first": first,
            "last": last,
            "url": url,
            "email": pa.nulls(len(k), pa.string()),
            "company": vendor_ids._pick(_COMPANIES, bits >> np.uint64(16)),
            "position": vendor_ids._pick(_POSITIONS, bits >> np.uint64(24)),
            "connected": pc.if_else(unreadable, pa.scalar("N/A", pa.string()), connected_text),
        }
    )
    lines = pa.table(
        {
            "file": pa.array(snaps["file"], pa.string()).take(pa.array(rows_per_file)),
            # newest first; a connection written twice right after itself
            "order": pa.array(-(connected.astype(np.float64) * 1e6 + k)),
            "line": csv_text(table),
        }
    )
    return _repeat_some_urls(lines, named, rng)


# The connections' employers and positions (never read: they only make the rows look real).
_COMPANIES = tuple(d.split(".")[0].title() for d in names.PROSPECT_DOMAINS)
_POSITIONS = tuple(t for titles in names.TITLES.values() for t in titles)


def _snapshots(world: World) -> pd.DataFrame:
    """One row per export: employee_id, employee (index), observed_at, network_size, listed
    (members with a profile URL: the audience observed then, else none), file."""
    ev = world.exported("employee")
    li = ev.table.filter(pc.equal(ev.table["network"], "linkedin"))
    snaps = pd.DataFrame(
        {
            "employee_id": li["employee_id"].to_numpy(zero_copy_only=False),
            "observed_at": seconds(li["observed_at"]),
            "network_size": li["network_size"].to_numpy(zero_copy_only=False).astype(np.int64),
        }
    )
    aud = world.exported("audience")
    observed = pd.DataFrame(
        {"employee_id": aud.table["employee_id"].to_numpy(zero_copy_only=False),
         "observed_at": seconds(aud.table["observed_at"])}
    ).groupby(["employee_id", "observed_at"]).size().rename("listed")
    snaps = snaps.join(observed, on=["employee_id", "observed_at"])
    if snaps["listed"].notna().sum() != len(observed):
        raise AssertionError("an audience observation has no network-size snapshot at its time")
    snaps["listed"] = snaps["listed"].fillna(0).astype(np.int64)
    if (snaps["listed"] > snaps["network_size"]).any():
        raise AssertionError("an audience export lists more members than its network has")
    snaps["employee"] = pc.index_in(
        pa.array(snaps["employee_id"], pa.string()), value_set=world.company.employee_id
    ).to_numpy(zero_copy_only=False)
    day = strftime(snaps["observed_at"].to_numpy(), "%m-%d-%Y").to_numpy(zero_copy_only=False)
    snaps["file"] = snaps["employee_id"] + "/Basic_LinkedInDataExport_" + day + "/Connections.csv"
    return snaps


def _check_audiences(world, snaps, member_id, named, rows_per_file) -> None:
    """The members the exports list are exactly the audiences observed then (people.py draws
    both from the employee's connections in connection order)."""
    at = pa.array(rows_per_file).filter(pa.array(named))
    exported = pa.table(
        {
            "employee_id": pa.array(snaps["employee_id"], pa.string()).take(at),
            "observed_at": pa.array(snaps["observed_at"].to_numpy(), pa.int64()).take(at),
            "member_id": member_id.filter(pa.array(named)),
        }
    )
    aud = world.exported("audience").table
    mine = pc.is_in(aud["employee_id"], value_set=pa.array(snaps["employee_id"].unique(), pa.string()))
    aud = aud.filter(mine)
    observed = pa.table(
        {
            "employee_id": aud["employee_id"],
            "observed_at": pa.array(seconds(aud["observed_at"]), pa.int64()),
            "member_id": aud["member_id"],
        }
    )
    keys = [(c, "ascending") for c in ("employee_id", "observed_at", "member_id")]
    if not exported.sort_by(keys).equals(observed.sort_by(keys).cast(exported.schema)):
        raise AssertionError("the Connections.csv exports do not list the generator's audiences")


def _connected_on(size_by_month: np.ndarray, k: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Epoch seconds (a day) of each connection: in the month before the first month start at
    which the network had more than k connections; before the data window for the first ones."""
    first = np.argmax(size_by_month > k[:, None], axis=1)
    day = ((bits >> np.uint64(8)) % np.uint64(28)).astype(np.int64)
    year = np.where(first == 0, 2015 + (bits % np.uint64(10)).astype(np.int64), YEAR)
    month = np.where(first == 0, ((bits >> np.uint64(4)) % np.uint64(12)).astype(np.int64), first - 1)
    months = ((year - 1970) * 12 + month).astype("datetime64[M]")
    return (months.astype("datetime64[D]") + day).astype("datetime64[s]").astype(np.int64)


def _url_variants(url: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Profile URLs as exports write them: a country subdomain, a trailing slash, a tracking
    query, capitals; all one canonical member id (rl_member_id)."""
    style = rng.choice(4, len(url), p=[0.83, 0.08, 0.05, 0.04])
    country = pc.binary_join_element_wise(
        pc.replace_substring(url, "https://www.", "https://de."), "/", "")
    tracked = pc.binary_join_element_wise(url, "?trk=public_profile_browsemap", "")
    prefix = len("https://www.linkedin.com/in/")
    vanity = pc.utf8_capitalize(pc.utf8_slice_codeunits(url, prefix))
    capital = pc.binary_join_element_wise(pc.utf8_slice_codeunits(url, 0, prefix), vanity, "")
    return pc.choose(pa.array(style, pa.int8()), url, country, tracked, capital)


def _repeat_some_urls(rows: pa.Table, named: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """A few connections with a profile URL written twice in their export (counted once)."""
    candidates = np.flatnonzero(named)
    if len(candidates) == 0:
        return rows
    pick = rng.choice(candidates, min(len(candidates), max(2, round(0.002 * len(candidates)))), replace=False)
    copies = rows.take(pa.array(pick))
    order = pc.add(copies["order"], 0.5)
    return pa.concat_tables([rows, copies.set_column(1, "order", order)])


def _frame(rel: str, body: bytes) -> bytes:
    """Most exports start with LinkedIn's notes; older ones do not. Some were re-saved with a
    byte-order mark or Windows line ends."""
    h = zlib.crc32(rel.encode())
    text = (PREAMBLE.encode() if h % 10 else b"") + body
    if h % 7 == 0:
        text = text.replace(b"\n", b"\r\n")
    return (b"\xef\xbb\xbf" if h % 11 == 0 else b"") + text
