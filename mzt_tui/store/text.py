"""Strings SQLite and JSON cannot take: lone surrogates (undecodable bytes from /proc)."""

from __future__ import annotations

from typing import Any, TypeVar

from mzt_tui.models.process import Frozen

ModelT = TypeVar("ModelT", bound=Frozen)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        # "replace" turns each lone surrogate into "?"; valid text is unchanged.
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def without_surrogates(model: ModelT) -> ModelT:
    """A copy of `model` whose strings can be encoded as UTF-8 (lone surrogates become "?").

    Only for the rare model whose write failed with an encoding error: the hot path never
    pays for the check.
    """
    return type(model).model_validate(_clean(model.model_dump()))
