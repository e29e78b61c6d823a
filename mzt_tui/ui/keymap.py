"""Remapping keys by binding id (`[keys]` in top.toml): which ids exist, which keys are valid."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character

from mzt_tui.config.problems import KEY_STRINGS
from mzt_tui.models.errors import UsageError

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED_KEYS = frozenset(
    key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")
)


@dataclass(frozen=True)
class KeymapProblem:
    """One entry of a keymap that cannot be applied.

    Attributes:
        binding_id: The id as given.
        problem: What is wrong, e.g. "unknown binding id".
        allowed: What would be accepted.
    """

    binding_id: str
    problem: str
    allowed: str


def _subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_ids() -> dict[str, str]:
    """Every binding id of the app's screens and widgets, with its default keys.

    Every screen module is imported here (the app loads some only when first opened).
    """
    import importlib

    from mzt_tui.ui.app import lazy_screen_modules

    for module in lazy_screen_modules():
        importlib.import_module(module)

    found: dict[str, str] = {}
    for cls in (DOMNode, *_subclasses(DOMNode)):
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.id is not None:
                found.setdefault(binding.id, binding.key)
    return dict(sorted(found.items()))


def _valid_key(key: str) -> bool:
    *modifiers, base = key.strip().split("+")
    if any(modifier not in MODIFIERS for modifier in modifiers) or not base:
        return False
    if len(base) == 1:
        return base.isprintable()
    return base in _NAMED_KEYS or base in REPLACED_KEYS or key_to_character(base) is not None


def keymap_problems(keymap: Mapping[str, str]) -> list[KeymapProblem]:
    """What is wrong with `keymap` (binding id to comma-separated keys); empty when nothing."""
    if not keymap:
        return []  # nothing to check: spare loading every screen
    known = binding_ids()
    found: list[KeymapProblem] = []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            found.append(
                KeymapProblem(binding_id, "is not a binding id", "one of " + ", ".join(known))
            )
            continue
        bad = [key.strip() for key in keys.split(",") if not _valid_key(key)]
        if bad:
            found.append(
                KeymapProblem(
                    binding_id,
                    f"has the key {bad[0]!r}, which is not a key" if keys.strip() else "is empty",
                    KEY_STRINGS,
                )
            )
    return found


def checked_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """`keymap` as a dict, when every entry is valid.

    Raises:
        UsageError: The first bad entry, in one line.
    """
    for problem in keymap_problems(keymap):
        raise UsageError(
            f"key keys.{problem.binding_id}: {problem.problem} (allowed: {problem.allowed})"
        )
    return dict(keymap)
