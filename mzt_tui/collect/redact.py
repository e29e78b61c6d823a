"""Redaction of secrets in command lines, before anything is shown, stored or exported.

Command lines of AI agents often carry API keys, tokens and prompts. `redact_command` replaces
the value of every secret it recognises with `***` and truncates the result to 500 characters:

* secret flags: `--api-key=…`, `--api-key …`, `--token`, `--password`, `--secret`, and flags
  that end with those words (`--github-token`, `--client-secret`), but not `--max-tokens`;
* `key=value` pairs: `token=`, `password=`, `secret=`, `api_key=`, `access_token=` (also inside
  URL query strings);
* headers: `Authorization: Bearer …`, `Authorization: …`, `X-Api-Key: …`;
* environment-style assignments: `*_KEY=…`, `*_TOKEN=…`, `*_SECRET=…`, `*_PASSWORD=…`;
* credentials by shape: `sk-…` API keys, AWS `AKIA…`/`ASIA…` key ids, GitHub `ghp_…`
  (and `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`) tokens, Slack `xox?-…` tokens, Google
  `AIza…` keys, JSON web tokens;
* URLs with `user:password@`: the password.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mzt_tui.models.process import COMMAND_MAX_CHARS

REDACTED = "***"

_CREDENTIAL_WORDS = (
    r"(?:api[-_]?key|apikey|token|password|passwd|secret|auth[-_]?token|access[-_]?key)"
)

# Each pattern keeps its group 1 (the name part) and replaces what follows with ***.
_NAMED_VALUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # --api-key=VALUE, --api-key VALUE, --github-token VALUE (the flag ends with the word).
    re.compile(
        rf"(--?(?:[a-z0-9]+[-_])*{_CREDENTIAL_WORDS}(?:=|\s+))(?!-)[^\s\"']+", re.IGNORECASE
    ),
    # Authorization: Bearer VALUE / Authorization: VALUE, and API-key headers.
    re.compile(
        r"((?:proxy-)?authorization\s*[:=]\s*(?:(?:bearer|basic|token|digest)\s+)?)[^\s\"']+",
        re.IGNORECASE,
    ),
    re.compile(r"(x-api-key\s*:\s*)[^\s\"']+", re.IGNORECASE),
    # FOO_API_KEY=VALUE, GITHUB_TOKEN=VALUE, DB_PASSWORD=VALUE (environment style).
    re.compile(
        r"(\b(?:[A-Z0-9_]*_)?(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS)=)[^\s\"'&]+",
    ),
    # token=VALUE, password=VALUE, in arguments and URL query strings.
    re.compile(rf"((?<![\w-]){_CREDENTIAL_WORDS}=)[^\s\"'&]+", re.IGNORECASE),
    # scheme://user:PASSWORD@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.IGNORECASE),
)

# Credentials recognisable by their shape alone: the whole token is replaced.
_SHAPED_SECRET = re.compile(
    r"\bsk-[A-Za-z0-9_-]{16,}"
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"
)


@lru_cache(maxsize=4096)
def redact_command(text: str) -> str:
    """Replace the secrets in a command line with `***` and truncate it to 500 characters.

    Cached: the same command line (a long-running process, tick after tick) costs one lookup.

    Args:
        text: The command line, arguments joined by spaces.

    Returns:
        The redacted command line, at most 500 characters long.
    """
    for pattern in _NAMED_VALUE_PATTERNS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    text = _SHAPED_SECRET.sub(REDACTED, text)
    return text[:COMMAND_MAX_CHARS]
