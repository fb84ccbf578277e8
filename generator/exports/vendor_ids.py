"""How the vendors name what the generator names: members, posts, the page, deals, contacts.

Deterministic functions of the generator's own ids, so that every export names a thing alike:

* a member (generator id ``li:<16 hex>``) is, to LinkedIn's API, the person URN
  ``urn:li:person:<the same 64 bits in 11 base-62 digits>`` (engagement actors, the roster's
  URN column) and, in a Connections.csv, the profile URL
  ``https://www.linkedin.com/in/<first>-<last>-<12 of the hex digits>`` (audiences). No export
  says that the two are one member, as in real exports (rl_member_id keeps them two ids);
* a LinkedIn post is the URN the contract's share carries as ``platform_post_urn``
  (``urn:li:share:N``); an X post is ``https://x.com/<handle>/status/N``, the same N;
* the page is ``urn:li:organization:N``; deals and contacts have HubSpot's record numbers.

``IdMap`` collects, per kind, which id the exports land for which id the contract files land
(DIR/ground_truth/export_ids.parquet), for comparing what the two land.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator import names
from generator.content import _post_numbers
from generator.ids import _strings, _with_prefix

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_ASCII = str.maketrans({"á": "a", "ü": "u", "ö": "o", "é": "e"})
NO_MEMBER = "li:0000000000000000"  # stands in for a missing member id while ids are worked out


def org_urn(seed: int) -> str:
    return f"urn:li:organization:{1_000_000 + (seed * 7919) % 9_000_000}"


def _bits(ids: pa.Array | pa.ChunkedArray, skip: int = 3) -> np.ndarray:
    """The 64 bits that generator ids (``skip`` characters of prefix, 16 hex digits) spell,
    read from the Arrow buffer: no Python string is made."""
    whole = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    text = pa.concat_arrays([pc.utf8_slice_codeunits(whole, skip, skip + 16).cast(pa.large_string())])
    if len(text) == 0:
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[: len(text) + 1]
    if not (np.diff(offsets) == 16).all():
        raise ValueError("not generator ids (a prefix and 16 hex digits)")
    digits = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(-1, 16)
    bits = np.zeros(len(digits), dtype=np.uint64)
    for i in range(16):  # a digit at a time: no (n, 16) array of 64-bit words
        d = digits[:, i]
        value = np.where(d >= ord("a"), d - (ord("a") - 10), d - ord("0")).astype(np.uint64)
        bits = (bits << np.uint64(4)) | value
    return bits


def _pick(vocabulary: tuple[str, ...] | list[str], bits: np.ndarray) -> pa.Array:
    """A word of the vocabulary for each value of ``bits``."""
    index = (bits % np.uint64(len(vocabulary))).astype(np.int64)
    return pa.array(vocabulary, pa.string()).take(pa.array(index))


def member_urns(member_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``urn:li:person:<11 base-62 digits>`` of each member (null stays null)."""
    rest = _bits(pc.fill_null(member_ids, NO_MEMBER))
    chars = _with_prefix("urn:li:person:", len(rest), 11)
    for i in range(1, 12):  # the last digit first: 62**11 > 2**64
        chars[:, -i] = _BASE62[(rest % np.uint64(62)).astype(np.intp)]
        rest = rest // np.uint64(62)
    return pc.if_else(pc.is_null(member_ids), pa.scalar(None, pa.string()), _strings(chars))


def member_names(member_ids: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """First and last name of each member, as their profile URL spells them."""
    bits = _bits(member_ids)
    return _pick(names.FIRST_NAMES, bits), _pick(names.LAST_NAMES, bits >> np.uint64(8))


def profile_urls(member_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``https://www.linkedin.com/in/<first>-<last>-<12 hex>``: a vanity name as members pick
    them, unique by its hex tail, in lower case (its own canonical form)."""
    bits = _bits(member_ids)
    first = _pick([n.lower().translate(_ASCII) for n in names.FIRST_NAMES], bits)
    last = _pick([n.lower().translate(_ASCII) for n in names.LAST_NAMES], bits >> np.uint64(8))
    tail = pc.utf8_slice_codeunits(member_ids, 3, 15)
    return pc.binary_join_element_wise("https://www.linkedin.com/in/", first, "-", last, "-", tail, "")


def post_ids(world) -> pa.Array:
    """Per share (Shares order): the id every export names the post by, as it lands —
    ``urn:li:share:N`` on LinkedIn, the post's URL on X (handle from the work email)."""
    s = world.shares
    number = pc.cast(pa.array(_post_numbers(s.n, world.seed), pa.uint64()), pa.string())
    local = pc.list_element(pc.split_pattern(pa.array(world.company.email, pa.string()), "@"), 0)
    handle = pc.replace_substring(local, ".", "_").take(pa.array(np.maximum(s.author, 0)))
    x_url = pc.binary_join_element_wise("https://x.com/acme_", handle, "/status/", number, "")
    urn = pc.binary_join_element_wise("urn:li:share:", number, "")
    return pc.if_else(pa.array(s.network == "twitter"), x_url, urn)


def deal_record_ids(n: int) -> pa.Array:
    return pc.cast(pa.array(np.arange(n, dtype=np.int64) * 7 + 20_000_000_101), pa.string())


def contact_record_ids(n: int) -> pa.Array:
    return pc.cast(pa.array(np.arange(n, dtype=np.int64) * 3 + 50_000_000_051), pa.string())


def comment_numbers(engagement_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A comment's number in its URN (``urn:li:comment:(<post>,<number>)``), from the
    generator's engagement id (``eng_`` + 16 hex digits)."""
    return pc.cast(pa.array(_bits(engagement_ids, skip=4) >> np.uint64(1), pa.uint64()), pa.string())


@dataclass
class IdMap:
    """Which id the exports land for which id the contract files land, per kind of thing.

    An id as landed is ``contract_id`` — or its pseudonym where ``contract_pseudonymized`` (a
    member) — and ``export_id`` followed by the pseudonym of ``export_pseudonymized`` where
    that is given (a reaction lands as ``li:reaction:`` + the pseudonym of its id)."""

    parts: list[pa.Table] = field(default_factory=list)

    def add(
        self,
        kind: str,
        contract_id: pa.Array | pa.ChunkedArray,
        export_id: pa.Array | pa.ChunkedArray,
        *,
        export_pseudonymized: pa.Array | pa.ChunkedArray | None = None,
        contract_pseudonymized: bool = False,
    ) -> None:
        n = len(contract_id)
        self.parts.append(
            pa.table(
                {
                    "kind": pa.array([kind] * n, pa.string()),
                    "contract_id": contract_id.cast(pa.string()),
                    "contract_pseudonymized": pa.array([contract_pseudonymized] * n, pa.bool_()),
                    "export_id": export_id.cast(pa.string()),
                    "export_pseudonymized": (
                        pa.nulls(n, pa.string()) if export_pseudonymized is None
                        else export_pseudonymized.cast(pa.string())
                    ),
                }
            )
        )

    def write(self, path: Path) -> int:
        if not self.parts:
            return 0
        table = pa.concat_tables(self.parts).combine_chunks()
        pq.write_table(table, path, compression="zstd")
        return table.num_rows
