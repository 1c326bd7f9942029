"""Reads the variables and outputs a Terraform module declares (python-hcl2), for checks and Konstruct catalogs."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import hcl2


class TerraformParseError(ValueError):
    """A ``.tf`` file is not valid HCL2."""


@dataclass(frozen=True)
class TerraformVariable:
    """A ``variable`` block: its name, type expression and what else envbot needs from it."""

    name: str
    type: str | None
    description: str
    default: Any
    has_default: bool
    sensitive: bool


@dataclass(frozen=True)
class TerraformOutput:
    """An ``output`` block: its name and whether Terraform marks it sensitive."""

    name: str
    sensitive: bool
    description: str


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps quotes around strings and ``${}`` around expressions (version 7+); undo both."""
    if isinstance(value, str):
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            return value[1:-1]
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _blocks(document: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in document.get(kind, []):
        for raw_name, body in entry.items():
            found.append((str(_unquote(raw_name)), body if isinstance(body, dict) else {}))
    return found


def parse_module(text: str) -> tuple[tuple[TerraformVariable, ...], tuple[TerraformOutput, ...], bool]:
    """The variables and outputs declared in one ``.tf`` file, and whether it declares anything for ``terraform
    apply`` to do (a ``resource``, ``module`` or ``data`` block)."""
    variables, outputs, creates = _parse_module(text)
    return copy.deepcopy(variables), outputs, creates  # a default may be a list or a mapping: each caller its own


@functools.lru_cache(maxsize=256)
def _parse_module(text: str) -> tuple[tuple[TerraformVariable, ...], tuple[TerraformOutput, ...], bool]:
    """``parse_module`` once per distinct text: python-hcl2 (lark) takes tens of milliseconds a file, and every
    load of the same catalogs (each CLI command, the test suite's hundreds) would parse the same files again."""
    try:
        document = hcl2.loads(text)
    except Exception as exc:  # python-hcl2 raises lark errors of many kinds for bad syntax
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TerraformParseError(first_line) from None
    variables = tuple(
        TerraformVariable(
            name=name,
            type=_unquote(body["type"]) if "type" in body else None,
            description=str(_unquote(body.get("description", ""))),
            default=_unquote(body.get("default")),
            has_default="default" in body,
            sensitive=bool(body.get("sensitive", False)),
        )
        for name, body in _blocks(document, "variable")
    )
    outputs = tuple(
        TerraformOutput(
            name=name,
            sensitive=bool(body.get("sensitive", False)),
            description=str(_unquote(body.get("description", ""))),
        )
        for name, body in _blocks(document, "output")
    )
    return variables, outputs, any(document.get(kind) for kind in ("resource", "module", "data"))
