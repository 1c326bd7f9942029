"""Sandboxed Jinja2 where every ``{{ }}`` becomes exactly one YAML value, so parameter values stay data."""

from __future__ import annotations

import contextvars
import functools
import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot import yamldoc
from bot.errors import TemplateRenderError

MAX_RENDERED_CHARS = 2 * 1024 * 1024
MAX_EXPONENT = 64


class _SlotRecorder:
    """Replaces each expression's value by an opaque token while rendering, and remembers the value."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        self.values: list[Any] = []
        self.pattern = _slot_pattern(nonce)

    def record(self, value: Any) -> str:
        self.values.append(value)
        return f"envbot{self.nonce}slot{len(self.values) - 1}x"


@functools.lru_cache(maxsize=256)
def _slot_pattern(nonce: str) -> re.Pattern[str]:
    return re.compile(rf"envbot{nonce}slot(\d+)x")


_RECORDER: contextvars.ContextVar[_SlotRecorder] = contextvars.ContextVar("envbot_template_slots")


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> str:
    # pass_context keeps Jinja from folding constants at compile time, so compiled templates can be cached.
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing attribute
    return _RECORDER.get().record(value)


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with repetition and powers bounded so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponents above {MAX_EXPONENT} are not allowed")
        if isinstance(left, int) and isinstance(right, int):
            # Chained powers or repeated squaring would otherwise build numbers that take minutes to compute.
            bits = (abs(left).bit_length() - 1) * right if operator == "**" else left.bit_length() + right.bit_length()
            if operator in ("*", "**") and bits > yamldoc.MAX_INTEGER_BITS:
                raise SecurityError(f"integers of more than {yamldoc.MAX_INTEGER_BITS} bits are not allowed")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                sized = isinstance(sequence, str | list | tuple) and isinstance(count, int)
                if sized and len(sequence) * count > MAX_RENDERED_CHARS:
                    raise SecurityError("repetition beyond the size limit is not allowed")
        return super().call_binop(context, operator, left, right)


def _new_environment() -> ImmutableSandboxedEnvironment:
    """The sandbox: no attribute escapes, no mutation of the data passed in, bounded ranges, strict names."""
    return _BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
        loader=jinja2.DictLoader({}),
    )


_ENVIRONMENT = _new_environment()


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> jinja2.Template:
    return _ENVIRONMENT.from_string(source)


def check_template_syntax(source: str, name: str) -> str | None:
    """A one-line description of a syntax error, or None."""
    try:
        _ENVIRONMENT.parse(source, name=name)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    except RecursionError:
        return "nested too deeply to parse"
    except (ValueError, OverflowError) as exc:  # a number literal of thousands of digits
        return f"cannot be parsed: {str(exc).split(';')[0]}"
    return None


def _as_text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateRenderError(f"{where}: a value is not a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    raise TemplateRenderError(f"{where}: a {type(value).__name__} value cannot be part of a longer string")


def _plain(value: Any, where: str) -> Any:
    """Copy a value into plain YAML data (dicts, lists, scalars); anything else is a template bug."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateRenderError(f"{where}: a value is not a finite number")
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, jinja2.Undefined):
        raise TemplateRenderError(f"{where}: an undefined value reached the output")
    raise TemplateRenderError(f"{where}: a {type(value).__name__} value cannot be written as YAML")


def _substitute(node: Any, recorder: _SlotRecorder, where: str) -> Any:
    if isinstance(node, str):
        whole = recorder.pattern.fullmatch(node)
        if whole:
            return _plain(recorder.values[int(whole.group(1))], where)
        if recorder.pattern.search(node) is None:
            return node
        return recorder.pattern.sub(lambda m: _as_text(recorder.values[int(m.group(1))], where), node)
    if isinstance(node, dict):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            new_key = _substitute(key, recorder, where) if isinstance(key, str) else key
            if isinstance(new_key, dict | list):
                raise TemplateRenderError(f"{where}: a mapping key must be a single value")
            if new_key in result:
                raise TemplateRenderError(f"{where}: duplicate key {new_key!r} after substitution")
            result[new_key] = _substitute(value, recorder, where)
        return result
    if isinstance(node, list):
        return [_substitute(item, recorder, where) for item in node]
    return node


def render_template(source: str, name: str, context: Mapping[str, Any]) -> list[Any]:
    """Render one template to its YAML documents, with every expression's value put back as data."""
    recorder = _SlotRecorder(hashlib.sha256(source.encode()).hexdigest()[:12])
    token = _RECORDER.set(recorder)
    try:
        template = _compile(source)
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise TemplateRenderError(f"{name}: renders to more than {MAX_RENDERED_CHARS} characters")
            chunks.append(chunk)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(f"{name}: line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateRenderError(f"{name}: templates cannot include or import other files ({exc.name})") from None
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(f"{name}: {exc.message}") from None
    except SecurityError as exc:
        raise TemplateRenderError(f"{name}: refused by the template sandbox: {exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, OverflowError, RecursionError) as exc:
        raise TemplateRenderError(f"{name}: {type(exc).__name__}: {exc}") from None
    finally:
        _RECORDER.reset(token)
    text = "".join(chunks)
    try:
        documents = yamldoc.load_all(text, yamldoc.Schema.KUBERNETES)
    except yamldoc.YamlError as exc:
        raise TemplateRenderError(f"{name}: does not render to valid YAML: {exc}") from None
    return [_substitute(document, recorder, name) for document in documents]
