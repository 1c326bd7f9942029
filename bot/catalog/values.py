"""Checks a literal parameter value against its declaration; returns what is wrong in words, never raises."""

from __future__ import annotations

import math
import re
from typing import Any

from bot.catalog.model import Parameter, ParameterType
from bot.documents import describe_type, show

_QUOTE_HINT = "put it in quotes to keep it text (YAML reads an unquoted number, true, false or null as that type)"
_BOOLEAN_HINT = "envbot reads YAML 1.2, where only true and false are booleans"
_YAML_1_1_BOOLEANS = frozenset({"y", "n", "yes", "no", "on", "off"})


def problem_with_value(param: Parameter, value: Any) -> str | None:
    """What is wrong with ``value`` for ``param``, or None when it fits. Secrets are checked elsewhere."""
    kind = param.type
    if kind is ParameterType.STRING:
        if not isinstance(value, str):
            hint = f"; {_QUOTE_HINT}" if _unquoted_scalar(value) else ""
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
            hint = f" ({_BOOLEAN_HINT})" if isinstance(value, str) and value.lower() in _YAML_1_1_BOOLEANS else ""
            return f"must be true or false, got {describe_type(value)}{hint}"
        return None
    if kind is ParameterType.ENUM:
        if value not in param.options or isinstance(value, bool) != any(
            isinstance(o, bool) and o == value for o in param.options
        ):
            allowed = ", ".join(str(o) for o in param.options)
            quote = _unquoted_scalar(value) and any(isinstance(o, str) for o in param.options)
            return f"must be one of {allowed}; got {show(value)}" + (f"; {_QUOTE_HINT}" if quote else "")
        return None
    return None


def _unquoted_scalar(value: Any) -> bool:
    """A scalar YAML typed as something other than text (a number, a boolean, null): quoting makes it text."""
    return not isinstance(value, str | list | dict)


def _range_problem(param: Parameter, value: int | float) -> str | None:
    if param.minimum is not None and value < param.minimum:
        return f"must be at least {param.minimum}, got {value}"
    if param.maximum is not None and value > param.maximum:
        return f"must be at most {param.maximum}, got {value}"
    return None
