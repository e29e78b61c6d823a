"""`signal_process`: only to the process that was chosen, never to a reused PID."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from mzt_tui.collect.signals import (
    SignalStatus,
    identify,
    signal_number,
    signal_process,
    signal_processes,
)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "60"])
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)


def _start(child: subprocess.Popen[bytes]) -> float:
    identity = identify(child.pid)
    assert identity is not None
    return identity.start_time


def test_identify_names_the_live_process(sleeper: subprocess.Popen[bytes]) -> None:
    identity = identify(sleeper.pid)
    assert identity is not None
    assert identity.command == "sleep 60"
    assert identity.user
    assert _start(sleeper) == pytest.approx(identity.start_time, abs=1e-3)


def test_term_reaches_the_chosen_process(sleeper: subprocess.Popen[bytes]) -> None:
    outcome = signal_process(sleeper.pid, _start(sleeper))
    assert outcome.status is SignalStatus.SENT
    assert outcome.message == f"SIGTERM sent to {sleeper.pid}"
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


def test_a_reused_pid_is_never_signalled(sleeper: subprocess.Popen[bytes]) -> None:
    outcome = signal_process(sleeper.pid, _start(sleeper) - 5.0, "KILL")
    assert outcome.status is SignalStatus.REUSED
    assert "another process" in outcome.message
    assert sleeper.poll() is None


def test_a_gone_process_is_reported(sleeper: subprocess.Popen[bytes]) -> None:
    start = _start(sleeper)
    sleeper.kill()
    sleeper.wait(timeout=10)
    outcome = signal_process(sleeper.pid, start)
    assert outcome.status is SignalStatus.GONE


def test_permission_denied_says_it_is_not_yours(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(pid: int, number: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    start = _start(sleeper)
    with monkeypatch.context() as patched:  # undone before the fixture kills the sleeper
        patched.setattr(os, "kill", refuse)
        outcome = signal_process(sleeper.pid, start)
    assert outcome.status is SignalStatus.DENIED
    assert "not yours to signal" in outcome.message
    assert sleeper.poll() is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root may signal every process")
def test_another_users_process_is_refused() -> None:
    init = identify(1)
    if init is None:
        pytest.skip("PID 1 is not visible here")
    outcome = signal_process(1, init.start_time, "CONT")
    assert outcome.status is SignalStatus.DENIED
    assert "not yours to signal" in outcome.message


def test_each_process_of_a_sheet_is_checked_alone(sleeper: subprocess.Popen[bytes]) -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        outcomes = signal_processes(
            ((sleeper.pid, _start(sleeper)), (other.pid, _start(other) + 5.0)), "INT"
        )
        assert [o.status for o in outcomes] == [SignalStatus.SENT, SignalStatus.REUSED]
        assert sleeper.wait(timeout=10) == -signal.SIGINT
        assert other.poll() is None
    finally:
        other.kill()
        other.wait(timeout=10)


def test_only_the_offered_signals_are_known() -> None:
    assert signal_number("TERM") == signal.SIGTERM
    assert signal_number("sigkill") == signal.SIGKILL
    with pytest.raises(ValueError, match="unknown signal"):
        signal_number("SEGV")
