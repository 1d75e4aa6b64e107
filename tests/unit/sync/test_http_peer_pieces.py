"""Request bodies go to httpcore in pieces of at most SEND_PIECE bytes, in order, whole."""

from __future__ import annotations

import os

from sync.peers.http import SEND_PIECE, _in_pieces


def test_a_large_body_is_cut_into_bounded_pieces_that_join_back() -> None:
    body = os.urandom(2 * SEND_PIECE + 12345)
    pieces = list(_in_pieces([body]))
    assert [len(p) for p in pieces] == [SEND_PIECE, SEND_PIECE, 12345]
    assert b"".join(pieces) == body


def test_small_chunks_pass_as_they_are_and_empty_ones_vanish() -> None:
    chunks = [b"--boundary\r\n", b"", os.urandom(SEND_PIECE + 1), b"\r\n--boundary--"]
    pieces = list(_in_pieces(chunks))
    assert pieces[0] is chunks[0]
    assert all(0 < len(p) <= SEND_PIECE for p in pieces)
    assert b"".join(pieces) == b"".join(chunks)
