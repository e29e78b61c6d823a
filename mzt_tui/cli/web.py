"""`mzt top --web`: the dashboard in a browser, through textual-serve.

textual-serve runs one `mzt top` per browser tab in a subprocess and relays it over a
websocket. It binds loopback unless `--host` says otherwise. With `--demo` the demo
conductor is started here, once, and every tab watches it.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from mzt_tui.models.errors import MztError, UsageError

DEFAULT_WEB_HOST = "127.0.0.1"
DEFAULT_WEB_PORT = 8000
_RUN_TOP = "from mzt_tui.cli import top_main; top_main()"


def dashboard_command(
    home: Path,
    *,
    pid_file: Path | None,
    score: str | None,
    interval: float | None,
    config: Path | None = None,
    db: Path | None = None,
    readonly: bool = False,
    python: str = sys.executable,
) -> str:
    """The shell command textual-serve runs for each browser tab: `mzt top` on `home`."""
    args = [python, "-c", _RUN_TOP, "--marianne-home", str(home)]
    if pid_file is not None:
        args += ["--pid-file", str(pid_file)]
    if score is not None:
        args += ["--score", score]
    if interval is not None:
        args += ["--interval", repr(interval)]
    if config is not None:
        args += ["--config", str(config)]
    if db is not None:
        args += ["--db", str(db)]
    if readonly:
        args.append("--readonly")
    return shlex.join(args)


def check_port(port: int) -> None:
    """Refuse a port outside 1–65535 (0 is refused: the browser needs to know the port).

    Raises:
        UsageError: The port is out of range.
    """
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid --port {port}: it must be from 1 to 65535")


def serve_dashboard(command: str, host: str, port: int) -> None:
    """Serve `command` to browsers at http://host:port until Ctrl-C or SIGTERM.

    textual-serve says where on stdout, with the command it runs per browser tab.

    Raises:
        MztError: The address cannot be bound (unknown host, port in use).
    """
    from textual_serve.server import Server

    check_port(port)
    server = Server(command, host=host, port=port, title="mzt top")
    try:
        server.serve()
    except OSError as error:
        raise MztError(
            f"cannot serve the dashboard on {host}:{port}: {error.strerror or error}"
        ) from error
