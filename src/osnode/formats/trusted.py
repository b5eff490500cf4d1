"""Stored metadata back into the domain's models without validating it again.

Metadata is checked once, when a version is saved and published (``parse_metadata``), and stored
as the validated model's JSON (``Metadata.to_json``), which validation maps to itself. Checking it
again for every record of every harvest page is what made ListRecords slow (EDTF date parsing
alone costs milliseconds a record): here the stored JSON is turned back into the same model
objects with pydantic's ``model_construct``, recursively, which costs microseconds. The formats
then serialize exactly what they would from a validated model (tests/oaipmh check it).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from ..domain.metadata import Metadata

# model class -> {field name: (nested model class, is a list)} for the fields that hold models.
_PLANS: dict[type[BaseModel], dict[str, tuple[type[BaseModel], bool]]] = {}
# model class -> (defaults of its optional fields, default factories).
_DEFAULTS: dict[type[BaseModel], tuple[dict[str, Any], dict[str, Any]]] = {}


def _model_in(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model class an annotation holds (``X``, ``X | None``, ``list[X]``), and whether a list."""
    origin = typing.get_origin(annotation)
    if origin is list:
        inner = _model_in(typing.get_args(annotation)[0])
        return (inner[0], True) if inner else None
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None


def _plan(cls: type[BaseModel]) -> dict[str, tuple[type[BaseModel], bool]]:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = {}
        for name, info in cls.model_fields.items():
            found = _model_in(info.annotation)
            if found:
                plan[name] = found
        _PLANS[cls] = plan
    return plan


def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    found = _DEFAULTS.get(cls)
    if found is None:
        fields = cls.model_fields.items()
        factories = {name: info.default_factory for name, info in fields if info.default_factory is not None}
        plain = {name: info.default for name, info in fields if not info.is_required() and name not in factories}
        found = _DEFAULTS[cls] = (plain, factories)
    plain, factories = found
    values = {k: (v.copy() if isinstance(v, list) else v) for k, v in plain.items()}
    values.update({k: factory() for k, factory in factories.items()})
    return values


def construct(cls: type[BaseModel], data: dict[str, Any]) -> Any:
    """``cls`` built from already-validated JSON, nested models included.

    What ``model_construct`` does, without its per-field default handling (measurably slower at
    fifteen nested models a record): defaults first (lists copied, never shared), then the data."""
    plan = _plan(cls)
    values = _defaults(cls)
    values.update(data)
    for name, (inner, many) in plan.items():
        value = values.get(name)
        if value is None:
            continue
        if many and isinstance(value, list):
            values[name] = [construct(inner, v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            values[name] = construct(inner, value)
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(model, "__pydantic_fields_set__", set(data))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def metadata(data: dict[str, Any]) -> Metadata:
    return construct(Metadata, data)
