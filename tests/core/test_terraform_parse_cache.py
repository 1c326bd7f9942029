"""Parsing a Terraform file is remembered per text, and every caller still gets values of its own."""

from __future__ import annotations

from bot.catalog.terraform import parse_module

MODULE = 'variable "zones" {\n  type    = list(string)\n  default = ["eu-west-1a", "eu-west-1b"]\n}\n'


def test_a_module_parsed_again_gives_each_caller_its_own_defaults() -> None:
    (first,), _, _ = parse_module(MODULE)
    assert first.default == ["eu-west-1a", "eu-west-1b"]
    first.default.append("changed by one caller")
    (second,), _, _ = parse_module(MODULE)
    assert second.default == ["eu-west-1a", "eu-west-1b"]
