"""The demo conductor: a small built-in Marianne conductor that runs real jobs.

Import from the modules, not from here, so that the sheet processes (which run
``python -m mzt_tui.demo.instrument``) import nothing but the standard library:

- `mzt_tui.demo.runner`: `run_demo`, `start_demo_background`, `DemoProcess`;
- `mzt_tui.demo.conductor`: `DemoConductor`;
- `mzt_tui.demo.plan`: `PLANTED_EFFECT`, `failure_probability`, `draw_failure`.
"""

from __future__ import annotations
