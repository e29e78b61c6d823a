"""Parsing `/proc/PID/stat` lines, including hostile `comm` values."""

from __future__ import annotations

import pytest

from mzt_tui.collect.procfs import parse_stat
from mzt_tui.collect.sampling import normalize_state
from tests.collect.fakeproc import stat_line

# A real line from a kernel 6.x machine (a `cat`), kept verbatim.
REAL_LINE = (
    b"5957 (cat) R 5913 5913 3684 0 -1 4194304 100 0 0 0 3 2 0 0 20 0 1 0 68292 3133440 389 "
    b"18446744073709551615 94128204398592 94128204418473 140730856138528 0 0 0 0 0 0 0 0 0 17 "
    b"0 0 0 0 0 0 94128204434480 94128204436096 94128482009088 140730856143383 140730856143403 "
    b"140730856143403 140730856144875 0\n"
)


def test_parse_real_line() -> None:
    parsed = parse_stat(REAL_LINE)
    assert parsed == (5957, "cat", "R", 5913, 5, 1, 68292, 3133440, 389)


@pytest.mark.parametrize(
    "comm",
    [
        "tmux: server",  # spaces
        "a) b",  # a ')' inside
        "((x))",  # nested parentheses
        "evil) R 99 1 (",  # a fake field sequence inside comm
        ")",  # only a ')'
        "",  # empty
        "kworker/0:1H-kb",
    ],
)
def test_comm_with_spaces_and_parentheses(comm: str) -> None:
    line = stat_line(
        4242,
        comm,
        "D",
        77,
        utime=120,
        stime=30,
        threads=9,
        start_ticks=5000,
        vsize=8192,
        rss_pages=3,
    )
    parsed = parse_stat(line.encode())
    assert parsed is not None
    pid, parsed_comm, state, ppid, cpu_ticks, threads, start_ticks, vsize, rss = parsed
    assert (pid, parsed_comm, state, ppid) == (4242, comm, "D", 77)
    assert (cpu_ticks, threads, start_ticks, vsize, rss) == (150, 9, 5000, 8192, 3)


@pytest.mark.parametrize(
    "line",
    [b"", b"123", b"123 (x", b"123 (x) S 1 2", b"abc (x) S " + b"1 " * 40, b"12 (x) S q" * 5],
)
def test_malformed_lines_give_none(line: bytes) -> None:
    assert parse_stat(line) is None


@pytest.mark.parametrize(
    ("kernel", "stored"),
    [
        *[("R", "R"), ("S", "S"), ("D", "D"), ("Z", "Z"), ("T", "T"), ("t", "T"), ("x", "X")],
        *[("X", "X"), ("I", "I"), ("K", "K"), ("W", "W"), ("P", "P"), ("?", "S"), ("", "S")],
    ],
)
def test_states_map_to_one_upper_case_letter(kernel: str, stored: str) -> None:
    assert normalize_state(kernel) == stored
