"""Signals to processes, never to a reused PID: `(pid, start time)` is checked right before.

A process is named by its PID and its start time (unix seconds, on the same precise boot time
the samplers use). Before sending, the start time is read again; a different one means the PID
now belongs to another process, which is left alone.
"""

from __future__ import annotations

import os
import signal as signals
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psutil

from mzt_tui.collect.sampling import precise_boot_time

START_TIME_TOLERANCE = 0.005
"""Seconds two readings of one start time may differ by (half a clock tick at 100 Hz)."""
SIGNAL_CHOICES: tuple[str, ...] = ("TERM", "INT", "HUP", "KILL", "STOP", "CONT")
"""The signals offered, the default first."""


class SignalStatus(StrEnum):
    """How a signal went."""

    SENT = "sent"
    GONE = "gone"
    REUSED = "reused"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class SignalOutcome:
    """What happened to one signal.

    Attributes:
        pid: The process aimed at.
        signal_name: `TERM`, `KILL` ...
        status: Sent, or why not.
        message: One line saying so.
    """

    pid: int
    signal_name: str
    status: SignalStatus
    message: str

    @property
    def sent(self) -> bool:
        """Whether the signal was delivered to the process."""
        return self.status is SignalStatus.SENT


@dataclass(frozen=True)
class ProcessIdentity:
    """A live process as it is now: what the confirmation names.

    Attributes:
        pid: Its PID.
        start_time: When it started, unix seconds.
        user: Its owner's name (or uid).
        command: Its command line.
    """

    pid: int
    start_time: float
    user: str
    command: str


def signal_number(name: str) -> int:
    """The number of `TERM`, `SIGTERM`, `kill` ...

    Raises:
        ValueError: Not a signal this module offers.
    """
    short = name.upper().removeprefix("SIG")
    if short not in SIGNAL_CHOICES:
        raise ValueError(f"unknown signal {name!r}; one of {', '.join(SIGNAL_CHOICES)}")
    return int(getattr(signals, f"SIG{short}"))


def _start_correction() -> float:
    """What to add to psutil's start times to put them on the samplers' precise boot time."""
    precise = precise_boot_time() if psutil.LINUX else None
    return 0.0 if precise is None else precise - psutil.boot_time()


def _current_start(proc: psutil.Process) -> float:
    return float(proc.create_time()) + _start_correction()


def identify(pid: int) -> ProcessIdentity | None:
    """The process with `pid` as it is now, or None when there is none (or it is a zombie)."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            start = _current_start(proc)
            try:
                user = str(proc.username())
            except (KeyError, psutil.AccessDenied):
                user = str(proc.uids().real)
            try:
                command = " ".join(proc.cmdline()) or proc.name()
            except psutil.AccessDenied:
                command = proc.name()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    return ProcessIdentity(pid=pid, start_time=start, user=user, command=command)


def same_start(first: float, second: float) -> bool:
    """Whether two start-time readings name the same process."""
    return abs(first - second) <= START_TIME_TOLERANCE


def signal_process(pid: int, start_time: float, signal_name: str = "TERM") -> SignalOutcome:
    """Send `signal_name` to `(pid, start_time)`, unless the PID now names another process.

    Args:
        pid: The process.
        start_time: Its start time when it was chosen, unix seconds.
        signal_name: `TERM` (default), `INT`, `HUP`, `KILL`, `STOP` or `CONT`.

    Returns:
        Sent; or gone, reused (another start time), denied (not the user's) or failed.
    """
    name = signal_name.upper().removeprefix("SIG")
    number = signal_number(name)
    identity = identify(pid)
    if identity is None:
        return SignalOutcome(pid, name, SignalStatus.GONE, f"process {pid} is gone; nothing sent")
    if not same_start(identity.start_time, start_time):
        started = datetime.fromtimestamp(identity.start_time).strftime("%H:%M:%S")
        return SignalOutcome(
            pid,
            name,
            SignalStatus.REUSED,
            f"PID {pid} now belongs to another process (started {started}); nothing sent",
        )
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        return SignalOutcome(pid, name, SignalStatus.GONE, f"process {pid} is gone; nothing sent")
    except PermissionError:
        return SignalOutcome(
            pid,
            name,
            SignalStatus.DENIED,
            f"process {pid} (user {identity.user}) is not yours to signal; nothing sent",
        )
    except OSError as error:
        return SignalOutcome(
            pid, name, SignalStatus.FAILED, f"SIG{name} to {pid} failed: {error.strerror}"
        )
    return SignalOutcome(pid, name, SignalStatus.SENT, f"SIG{name} sent to {pid}")


def signal_processes(
    targets: tuple[tuple[int, float], ...], signal_name: str = "TERM"
) -> tuple[SignalOutcome, ...]:
    """Signal several `(pid, start_time)` processes (a sheet's roots), each checked alone."""
    return tuple(signal_process(pid, start, signal_name) for pid, start in targets)
