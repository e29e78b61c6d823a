"""``python -m mzt_tui.demo``: run the demo conductor in the foreground until Ctrl-C."""

from __future__ import annotations

from mzt_tui.demo.runner import main

raise SystemExit(main())
