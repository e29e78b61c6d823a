"""Build models from values that are valid already, without validating them again.

Hot paths (the store's readers, the samplers) make every value valid themselves (clamped,
parsed, bounded) and build thousands of models per tick or read; validation would only
repeat the work. What `model_construct` ends with, without its per-field Python loop.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

_Model = TypeVar("_Model", bound=BaseModel)


def trusted_model(model: type[_Model], **values: Any) -> _Model:
    """Build `model` from `values`, which must give every field, each valid already."""
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance
