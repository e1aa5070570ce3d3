"""Inputs that validate as you type with the services' own parsers (money, dates, ...).

``Parsed(money.parse_amount)`` turns a parser that raises ``BadInput`` into a Textual validator,
so the field says what is wrong in the parser's own words; ``Field`` shows that message under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Input, Label

from ..errors import ClinicError
from .literal import literal


class Parsed(Validator):
    """Valid when ``parse(value)`` returns; the failure is the parser's message."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.parse = parse

    def validate(self, value: str) -> ValidationResult:
        try:
            self.parse(value)
        except ClinicError as exc:
            return self.failure(exc.message)
        except ValueError as exc:
            return self.failure(str(exc))
        return self.success()


class Field(Vertical):
    """A labelled one-line input with its validation message below it (shown only when wrong).

    ``Field("Amount", parse=money.parse_amount, id="amount")``; ``.value`` is the parsed value
    (or raises the parser's BadInput), ``.text`` the raw text.
    """

    DEFAULT_CSS = """
    Field { height: auto; }
    Field > Horizontal { height: 1; }
    Field .field-label { width: 20; color: $text-muted; }
    Field Input { width: 1fr; }
    Field > .field-error { color: $error; height: auto; width: 100%; padding-left: 20; }
    Field > .field-error.-ok { display: none; }
    """

    def __init__(
        self,
        label: str,
        *,
        parse: Callable[[str], Any] | None = None,
        value: str = "",
        placeholder: str = "",
        optional: bool = False,
        password: bool = False,
        max_length: int = 0,
        id: str | None = None,  # noqa: A002 - Textual's name for it
    ) -> None:
        super().__init__(id=id)
        self.label = label
        self.parse = parse
        self.optional = optional
        validators = [Parsed(parse)] if parse is not None else []
        self.input = Input(
            value=value,
            placeholder=placeholder,
            password=password,
            max_length=max_length,
            validators=validators,
            valid_empty=optional,
            validate_on=["changed", "submitted"],
            compact=True,
        )

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.label, classes="field-label")
            yield self.input
        yield Label("", classes="field-error -ok")

    @property
    def text(self) -> str:
        return self.input.value

    @property
    def value(self) -> Any:
        text = self.input.value
        if self.optional and not text.strip():
            return None
        return self.parse(text) if self.parse is not None else text

    def check(self) -> bool:
        """Validate now (e.g. on submit) and show the message; True when the value can be used."""
        result = self.input.validate(self.input.value)
        self._show(result)
        return result is None or result.is_valid

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._show(event.validation_result)

    def _show(self, result: ValidationResult | None) -> None:
        error = self.query_one(".field-error", Label)
        message = "" if result is None or result.is_valid else "; ".join(result.failure_descriptions)
        error.update(literal(message))
        error.set_class(not message, "-ok")

    def focus(self, scroll_visible: bool = True) -> Field:
        self.input.focus(scroll_visible)
        return self
