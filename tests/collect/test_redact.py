"""Secrets in command lines are redacted; ordinary arguments are left alone."""

from __future__ import annotations

import pytest

from mzt_tui.collect.redact import redact_command

# Built from pieces so that no secret scanner mistakes these fixtures for real credentials.
SK_KEY = "sk-" + "ant-api03-" + "A1b2C3d4E5f6G7h8I9j0"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
GH_TOKEN = "ghp_" + "a" * 36
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTYifQ." + "c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("claude --api-key=abc123 -p hi", "claude --api-key=*** -p hi"),
        ("claude --api-key abc123 -p hi", "claude --api-key *** -p hi"),
        ("gh --token tok_9f8e7d", "gh --token ***"),
        ("mysql --password=hunter2 db", "mysql --password=*** db"),
        ("vault --secret s3cr3t --verbose", "vault --secret *** --verbose"),
        (
            "tool --github-token=zzz --client-secret yyy",
            "tool --github-token=*** --client-secret ***",
        ),
        ("curl https://x.io/api?token=abc&page=2", "curl https://x.io/api?token=***&page=2"),
        ("run password=hunter2 user=bob", "run password=*** user=bob"),
        (
            "curl -H Authorization: Bearer abc.def.ghi https://x.io",
            "curl -H Authorization: Bearer *** https://x.io",
        ),
        ("curl -H Authorization: Basic dXNlcjpwYXNz", "curl -H Authorization: Basic ***"),
        ("curl -H authorization: rawtokenvalue", "curl -H authorization: ***"),
        ("curl -H X-Api-Key: 12345", "curl -H X-Api-Key: ***"),
        ("env ANTHROPIC_API_KEY=abc python x.py", "env ANTHROPIC_API_KEY=*** python x.py"),
        ("env GITHUB_TOKEN=abc DB_PASSWORD=pw", "env GITHUB_TOKEN=*** DB_PASSWORD=***"),
        ("env AWS_SECRET=abc", "env AWS_SECRET=***"),
        (f"agent {SK_KEY} run", "agent *** run"),
        (f"aws configure {AWS_KEY}", "aws configure ***"),
        (f"git push https://{GH_TOKEN}@github.com/x/y", "git push https://***@github.com/x/y"),
        (
            "git clone https://bob:hunter2@git.example.com/r.git",
            "git clone https://bob:***@git.example.com/r.git",
        ),
        ("psql postgresql://app:p4ss@db:5432/x", "psql postgresql://app:***@db:5432/x"),
        (f"client --jwt {JWT}", "client --jwt ***"),
        ("slack xoxb-1234567890-abcdefghij", "slack ***"),
    ],
)
def test_secret_shapes_are_redacted(command: str, expected: str) -> None:
    assert redact_command(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "python -m pytest tests/ -x -q --max-tokens 4096",
        "claude -p 'write the tests' --model claude-sonnet-4 --output-format json",
        "sleep 300",
        "git log --author=bob --since=2.weeks",
        "node server.js --port=8080 --token-limit 5 --secret-file /etc/x.conf",
        "make -j4 KEYBOARD=us MONKEY=see",
        "curl https://example.com/path?page=2&sort=asc",
        "ssh user@host -p 22",
        "/usr/bin/python3 /home/me/ws-a/run.py --sheet 3 --skip-tests",
        "task-runner --disk-key-size 10",
    ],
)
def test_ordinary_arguments_are_left_alone(command: str) -> None:
    assert redact_command(command) == command


def test_truncated_after_redaction() -> None:
    command = "agent --api-key=" + "x" * 20 + " " + "y" * 1000
    redacted = redact_command(command)
    assert len(redacted) == 500
    assert redacted.startswith("agent --api-key=*** yyy")
    assert "x" not in redacted


def test_secret_beyond_the_cut_is_not_leaked_by_truncation() -> None:
    command = "a" * 490 + " --token=ABCDEFGHIJKLMNOP"
    assert "ABCDEF" not in redact_command(command)
