"""The expression evaluator the workflow tests use, against the rules GitHub documents for its expressions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.action.workflow_expressions import ExpressionError, Variables, condition, evaluate, interpolate

CONTEXTS: dict[str, Any] = {
    "github": {
        "event_name": "issue_comment",
        "event": {"issue": {"number": 42, "pull_request": {"url": "u"}}, "comment": {"body": "Hi\n/Destroy"}},
    },
    "vars": Variables({"ENVBOT_ENABLED": "true"}),
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("'it''s'", "it's"),
        ("github.event.issue.number", 42),
        ("github.EVENT.Issue.NUMBER", 42),  # property names ignore case
        ("github.event.pull_request.number", None),  # a missing property is null
        ("github.event.pull_request.number.deeper", None),  # and so is a property of null
        ("vars.ENVBOT_UNSET", ""),  # an unset variable reads as ''
        ("github.event.pull_request.number || github.event.issue.number", 42),  # || gives an operand
        ("github.event.issue.number && 'yes'", "yes"),
        ("github.event.pull_request && 'yes'", None),  # && gives the falsy operand
        ("!github.event.pull_request", True),
        ("!github.event.issue.pull_request", False),  # an object is truthy
        ("'' || 0 || null || false", False),
        ("github.event_name == 'ISSUE_COMMENT'", True),  # strings compare ignoring case
        ("github.event.issue.number == '42'", True),  # different types compare as numbers
        ("null == 0 && true == 1 && '' == 0 && false == ''", True),
        ("'abc' == 0 || 'abc' != 'abc'", False),  # NaN equals nothing
        ("github.event == github.event", True),  # the same object
        ("contains(github.event.comment.body, '/destroy')", True),  # ignoring case
        ("contains(github.event.comment.body, '/provision')", False),
        ("startsWith(github.event.comment.body, 'hi')", True),
        ("endsWith('renovate[bot]', '[BOT]')", True),
        ("format('pull-request-{0}-{1}', github.event.issue.number, true)", "pull-request-42-true"),
        ("format('{{0}} is {0}', null)", "{0} is "),
        ("!contains('a', 'b') && 'x' == 'y' || 'z'", "z"),  # ! before ==, == before &&, && before ||
        ("!('x' == 'y')", True),
    ],
)
def test_values(expression: str, value: Any) -> None:
    assert evaluate(expression, CONTEXTS) == value


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("envbot-${{ github.event.issue.number }}", "envbot-42"),
        ("${{ format('{{x}}') }}-${{ github.event.pull_request.number }}-", "{x}--"),  # '}}' inside a string
        ("a ${{ 1 }} b ${{ 2.5 }} c ${{ true }}", "a 1 b 2.5 c true"),
    ],
)
def test_interpolation(template: str, text: str) -> None:
    assert interpolate(template, CONTEXTS) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("vars.ENVBOT_ENABLED == 'true'", True),
        ("${{ vars.ENVBOT_ENABLED == 'true' }}", True),
        ("${{ vars.ENVBOT_UNSET }}", False),
        ("github.event.issue.pull_request", True),
    ],
)
def test_conditions(text: str, value: bool) -> None:
    assert condition(text, CONTEXTS) is value


@pytest.mark.parametrize(
    "expression",
    [
        "github.event['issue']",  # indexing is not in the subset
        "github.event.issue.number > 1",
        "github.event.*.number",
        "toJSON(github.event)",
        "secrets.TOKEN",  # no such context given
        "contains('a')",
        "format('{1}', 'a')",
        "'unclosed",
        "(true",
        "true false",
    ],
)
def test_what_it_does_not_understand_is_an_error(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, CONTEXTS)


def test_an_object_has_no_text_form() -> None:
    with pytest.raises(ExpressionError):
        interpolate("${{ github.event }}", CONTEXTS)
