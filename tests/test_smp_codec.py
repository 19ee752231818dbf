"""Property tests (hypothesis) for the Python SMP serial codec (edgekit.flash.smp_frame)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smp import packet as smppacket

from edgekit.flash.smp_frame import FrameDecoder, Header, SMPFrameError, decode_frames, decode_packet, \
    encode_frames, encode_packet

headers = st.builds(Header, op=st.sampled_from([0, 1, 2, 3]), group=st.integers(0, 0xFFFF),
                    cmd=st.integers(0, 255), seq=st.integers(0, 255), version=st.integers(0, 1))
bodies = st.binary(max_size=3000)


@settings(max_examples=200, deadline=None)
@given(headers, bodies, st.integers(8, 256))
def test_roundtrip_any_line_length(h, body, line_length):
    packet = encode_packet(h, body)
    frames = encode_frames(packet, line_length)
    assert all(len(f) <= max(line_length, 8) for f in frames)
    assert frames[0][:2] == b"\x06\x09" and all(f[:2] == b"\x04\x14" for f in frames[1:])
    (got,) = decode_frames(frames)
    h2, b2 = decode_packet(got)
    assert b2 == body and (h2.op, h2.group, h2.cmd, h2.seq, h2.version) == (h.op, h.group, h.cmd, h.seq, h.version)


@settings(max_examples=150, deadline=None)
@given(bodies, st.sampled_from([16, 64, 127, 128]))
def test_same_bytes_as_smpclient(body, line_length):
    packet = encode_packet(Header(2, 1, 1, 3), body)
    assert encode_frames(packet, line_length) == list(smppacket.encode(packet, line_length=line_length))


@settings(max_examples=300, deadline=None)
@given(bodies.filter(len), st.data())
def test_corruption_never_yields_a_wrong_packet(body, data):
    packet = encode_packet(Header(2, 0, 0, 1), body)
    frames = [bytearray(f) for f in encode_frames(packet, 128)]
    i = data.draw(st.integers(0, len(frames) - 1))
    j = data.draw(st.integers(2, len(frames[i]) - 2))
    frames[i][j] = data.draw(st.sampled_from(b"ABCXYZabc019+/=").filter(lambda c: c != frames[i][j]))
    try:
        out = decode_frames([bytes(f) for f in frames])
    except SMPFrameError:
        return
    # A base64 change can hit only padding bits; then the decoded packet must still be intact.
    assert out in ([], [packet])


def test_stray_continuation_and_garbage_are_rejected():
    d = FrameDecoder()
    with pytest.raises(SMPFrameError):
        d.feed(b"\x04\x14AAAA\n")
    with pytest.raises(SMPFrameError):
        d.feed(b"hello\n")
