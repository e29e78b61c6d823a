"""The `mzt` and `mzt-top` commands.

Every failure the user can act on becomes one line on stderr and a non-zero exit: usage
errors exit 2, everything else 1. Heavy modules (Textual, the store, the collectors) are
imported inside the commands that need them, so `mzt --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from mzt_tui.cli.app import app
from mzt_tui.models.errors import MztError

__all__ = ["app", "main", "top_main"]

_DEBUG_ENV = "MZT_DEBUG"


def _fail(message: str, exit_code: int) -> int:
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"mzt: error: {first_line}", file=sys.stderr)
    return exit_code


def run(argv: Sequence[str], prog_name: str = "mzt") -> int:
    """Run the command line `argv` and return the process exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(list(argv), prog_name=prog_name, standalone_mode=False)
    except MztError as error:
        return _fail(str(error), error.exit_code)
    except typer.TyperException as error:
        # Usage errors from the command-line parser (typer's own click): one line, exit 2.
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        if type(error).__name__ == "NoArgsIsHelpError":
            print(message, file=sys.stderr)
            return 2
        return _fail(message, int(getattr(error, "exit_code", 2)))
    except (typer.Abort, KeyboardInterrupt):
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # A reader such as `head` closed the pipe: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as error:
        if os.environ.get(_DEBUG_ENV):
            raise
        return _fail(
            f"internal error: {type(error).__name__}: {error} (set {_DEBUG_ENV}=1 for a traceback)",
            1,
        )
    return result if isinstance(result, int) else 0


def main() -> None:
    """Entry point of `mzt`."""
    sys.exit(run(sys.argv[1:]))


def top_main() -> None:
    """Entry point of `mzt-top`: the same as `mzt top`."""
    sys.exit(run(["top", *sys.argv[1:]], prog_name="mzt-top"))
