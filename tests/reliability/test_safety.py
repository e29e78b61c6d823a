"""Safety of what we write: private files, and no secret from a command line in any of them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mzt_tui.cli import run
from mzt_tui.marianne.learning import LearningStore
from mzt_tui.store import MonitorStore
from tests.reliability.helpers import figure
from tests.store.factories import BASE_TIME, process, snapshot

pytestmark = pytest.mark.slow

# Built from pieces so that no secret scanner mistakes these for real credentials.
SECRETS = {
    "flag": "flagvalue-" + "Q1w2E3r4",
    "flag-space": "spacedvalue-" + "T5y6U7",
    "anthropic": "sk-" + "ant-api03-" + "Zx9Cv8Bn7Mq6Wl5Ek4Rj",
    "aws": "AKIA" + "Q2W3E4R5T6Y7U8I9",
    "github": "ghp_" + "B" * 36,
    "github-pat": "github_pat_" + "C1" * 15,
    "slack": "xoxb-" + "1234567890-abcdefghijk",
    "google": "AIza" + "D" * 35,
    "jwt": "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJtenQifQ." + "c2lnbmF0dXJlMTIz",
    "url-password": "urlp4ss-" + "K8l9",
    "env": "envsecret-" + "M1n2",
    "bearer": "bearervalue-" + "P3o4",
    "query": "queryvalue-" + "S5d6",
}
ARGUMENTS = [
    f"--api-key={SECRETS['flag']}",
    "--client-secret",
    SECRETS["flag-space"],
    SECRETS["anthropic"],
    SECRETS["aws"],
    SECRETS["github"],
    SECRETS["github-pat"],
    SECRETS["slack"],
    SECRETS["google"],
    SECRETS["jwt"],
    f"https://bob:{SECRETS['url-password']}@git.example.com/r.git",
    f"OPENAI_API_KEY={SECRETS['env']}",
    "Authorization:",
    "Bearer",
    SECRETS["bearer"],
    f"https://api.example.com/v1?token={SECRETS['query']}&page=2",
]


@pytest.fixture
def secret_process() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", *ARGUMENTS],
        env={**os.environ, "ANTHROPIC_API_KEY": SECRETS["env"], "GH_TOKEN": SECRETS["github"]},
    )
    time.sleep(0.3)
    yield child
    child.kill()
    child.wait()


def test_no_secret_shape_reaches_any_file_or_stream(
    tmp_path: Path,
    secret_process: subprocess.Popen[bytes],
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = tmp_path / "home"
    argv = ["top", "--headless", "--json", "--record-system", "--marianne-home", str(home)]
    for _ in range(3):
        assert run([*argv, "--once"]) == 0
    assert run(["top", "--history", "10m", "--json", "--marianne-home", str(home)]) == 0
    streams = capsys.readouterr()
    written = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    assert home / "monitor.db" in written and home / "monitor.jsonl" in written
    leaks = [
        (shape, path.name)
        for shape, secret in SECRETS.items()
        for path, data in written.items()
        if secret.encode() in data
    ] + [
        (shape, "stdout/stderr")
        for shape, secret in SECRETS.items()
        if secret in streams.out or secret in streams.err
    ]
    assert leaks == []
    with MonitorStore(home / "monitor.db", readonly=True) as store:
        recorded = store.read_snapshots(0.0, limit=1)[0]
    (ours,) = [p for p in recorded.processes if p.pid == secret_process.pid]
    assert ours.command.count("***") >= len(SECRETS) - 1  # env secrets never were in argv
    figure(
        "redaction",
        f"{len(SECRETS)} secret shapes in a real process's command line and environment; "
        f"{len(written)} files and both streams searched, 0 found",
    )


def _modes(folder: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def test_every_file_we_create_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        store = MonitorStore(
            tmp_path / "monitor.db", jsonl_path=tmp_path / "monitor.jsonl", jsonl_max_bytes=1
        )
        for tick in range(4):  # rotates to .1 and .2
            store.write_snapshot(snapshot(BASE_TIME + tick, (process(10),)))
            store.append_jsonl(snapshot(BASE_TIME + tick, (process(10),)))
        reader = MonitorStore(tmp_path / "monitor.db", readonly=True)
        assert reader.count_snapshots() == 4
        LearningStore(tmp_path / "global-learning.db").record_pattern(
            "resource_anomaly", "[zombie] test", "a zombie"
        )
        modes = _modes(tmp_path)  # while open: -wal and -shm exist
        reader.close()
        store.close()
    finally:
        os.umask(previous)
    expected = {
        "monitor.db",
        "monitor.db-wal",
        "monitor.db-shm",
        "monitor.jsonl",
        "monitor.jsonl.1",
        "monitor.jsonl.2",
        "global-learning.db",
    }
    assert expected <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
