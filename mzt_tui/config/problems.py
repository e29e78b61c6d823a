"""One-line descriptions of a bad configuration value: what is wrong and what is allowed."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

KEY_STRINGS = "keys such as q, ctrl+q, f5, question_mark, space, several comma-separated"
_TYPE_WORDS: dict[object, str] = {
    float: "a number",
    int: "a whole number",
    bool: "true or false",
    str: "text",
    Path: "a path",
}
_PROBLEMS = {
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "int_type": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a finite number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "path_type": "is not a path",
    "greater_than": "is out of range",
    "greater_than_equal": "is out of range",
    "less_than": "is out of range",
    "less_than_equal": "is out of range",
    "model_type": "is not a table",
    "model_attributes_type": "is not a table",
    "dict_type": "is not a table",
}


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(metadata: list[Any]) -> list[str]:
    words: list[str] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            words.extend(_bounds(list(item.metadata)))
        elif isinstance(item, annotated_types.Gt):
            words.append(f"above {_number(item.gt)}")
        elif isinstance(item, annotated_types.Ge):
            words.append(f"at least {_number(item.ge)}")
        elif isinstance(item, annotated_types.Lt):
            words.append(f"below {_number(item.lt)}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"at most {_number(item.le)}")
    return words


def _describe(annotation: object, metadata: list[Any]) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _describe(inner, [*extra, *metadata])
    if origin in (Union, types.UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(kinds) == 1:
            return _describe(kinds[0], metadata)
    if origin is dict:
        return "a table of binding id = key"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a table of " + ", ".join(annotation.model_fields)
    word = _TYPE_WORDS.get(annotation, str(annotation))
    bounds = _bounds(metadata)
    return f"{word} {' and '.join(bounds)}" if bounds else word


def _field(model: type[BaseModel], loc: tuple[str, ...]) -> FieldInfo | None:
    current: object = model
    found: FieldInfo | None = None
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        found = current.model_fields.get(part)
        if found is None:
            return None
        current = _model_of(found.annotation)
    return found


def _model_of(annotation: object) -> object:
    if get_origin(annotation) in (Union, types.UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


def _annotation(model: type[BaseModel], loc: tuple[str, ...]) -> object:
    field = _field(model, loc)
    return None if field is None else field.annotation


def allowed(model: type[BaseModel], loc: tuple[str, ...]) -> str:
    """What the key at `loc` accepts, in words ("a number above 0")."""
    if len(loc) > 1 and get_origin(_model_of(_annotation(model, loc[:-1]))) is dict:
        return KEY_STRINGS
    field = _field(model, loc)
    if field is None:
        return "see README's Configuration section"
    if field.description:
        return field.description
    return _describe(field.annotation, list(field.metadata))


def known_keys(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """The keys the table at `loc` accepts (the top level when `loc` is empty)."""
    current: object = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_of(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def problem(error: ErrorDetails) -> str:
    """What is wrong with the value, from pydantic's error ("is not a number")."""
    known = _PROBLEMS.get(error["type"])
    if known is not None:
        return known
    message = error["msg"].removeprefix("Value error, ")
    return f"is not allowed: {message[:1].lower()}{message[1:]}"
