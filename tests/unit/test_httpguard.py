"""The connection guard's parts that need no server: a response leaving in one write."""

from __future__ import annotations

from exaop.httpguard import OneWrite


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return name


def test_a_head_waits_for_its_body_and_they_leave_together() -> None:
    t = Transport()
    w = OneWrite(t)  # type: ignore[arg-type]
    w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert t.writes == []
    w.write(b"ok")
    assert t.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]


def test_100_continue_goes_at_once_and_the_answer_still_in_one_write() -> None:
    t = Transport()
    w = OneWrite(t)  # type: ignore[arg-type]
    w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert t.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    w.write(b"HTTP/1.1 200 OK\r\n\r\n")
    w.write(b"x")
    assert t.writes[1:] == [b"HTTP/1.1 200 OK\r\n\r\nx"]


def test_a_large_body_is_not_copied_to_join_its_head() -> None:
    t = Transport()
    w = OneWrite(t)  # type: ignore[arg-type]
    big = b"x" * (OneWrite.JOIN_MAX + 1)
    w.write(b"HEAD")
    w.write(big)
    assert t.writes == [b"HEAD", big] and t.writes[1] is big


def test_nothing_held_is_lost_on_close_flush_or_any_other_use() -> None:
    for finish in ("close", "flush", "extra"):
        t = Transport()
        w = OneWrite(t)  # type: ignore[arg-type]
        w.write(b"HEAD")
        if finish == "close":
            w.close()
            assert t.closed
        elif finish == "flush":
            w.flush()
            w.flush()
        else:
            assert w.get_extra_info("peername") == "peername"
        assert t.writes == [b"HEAD"], finish
    t = Transport()
    assert not OneWrite(t).is_closing()  # type: ignore[arg-type]
