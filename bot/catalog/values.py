"""Checks a literal parameter value against its declaration; returns what is wrong in words, never raises."""

from __future__ import annotations

import math
import re
from typing import Any

from bot.catalog.model import Parameter, ParameterType

_YAML_BOOLEAN_HINT = "YAML reads yes/no/on/off/true/false as booleans; put the value in quotes"
_MAX_SHOWN = 60


def show(value: Any) -> str:
    """A short, safe rendering of a user value for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...'"


def describe_type(value: Any) -> str:
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def problem_with_value(param: Parameter, value: Any) -> str | None:
    """What is wrong with ``value`` for ``param``, or None when it fits. Secrets are checked elsewhere."""
    kind = param.type
    if kind is ParameterType.STRING:
        if not isinstance(value, str):
            hint = f" ({_YAML_BOOLEAN_HINT})" if isinstance(value, bool) else ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                hint = " (put it in quotes to keep it a string)"
            return f"must be a string, got {describe_type(value)}{hint}"
        if param.pattern is not None and re.fullmatch(param.pattern, value) is None:
            return f"{show(value)} does not match the pattern {param.pattern}"
        return None
    if kind is ParameterType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {describe_type(value)}"
        return _range_problem(param, value)
    if kind is ParameterType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {describe_type(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value}"
        return _range_problem(param, value)
    if kind is ParameterType.BOOLEAN:
        if not isinstance(value, bool):
            return f"must be true or false, got {describe_type(value)}"
        return None
    if kind is ParameterType.ENUM:
        if value not in param.options or isinstance(value, bool) != any(
            isinstance(o, bool) and o == value for o in param.options
        ):
            allowed = ", ".join(str(o) for o in param.options)
            return f"must be one of {allowed}; got {show(value)}"
        return None
    return None


def _range_problem(param: Parameter, value: int | float) -> str | None:
    if param.minimum is not None and value < param.minimum:
        return f"must be at least {param.minimum}, got {value}"
    if param.maximum is not None and value > param.maximum:
        return f"must be at most {param.maximum}, got {value}"
    return None
