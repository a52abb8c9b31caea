"""The building blocks of the definition models: problems reported where they are, field types, the base model."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from intake.definitions.types import AnswerType, Tier

ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
CHOICE_PATTERN = r"^[a-z0-9][a-z0-9_]{0,62}$"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+){0,8}$"
MAX_TEXT_LENGTH = 5000
MAX_SCALE_POINTS = 21
SCALE_DEFAULT_RANGE = (0, 10)

Loc = tuple[str | int, ...]


# Problems ---------------------------------------------------------------------------------------------------


def problem(message: str) -> PydanticCustomError:
    """An error whose message is shown to the editor as written (no "Value error, " prefix)."""
    return PydanticCustomError("definition", "{problem}", {"problem": message})


class Problems:
    """Problems found by one validator, each at its location relative to the model being validated."""

    def __init__(self, model: BaseModel):
        self.model = model
        self.found: list[InitErrorDetails] = []

    def add(self, loc: Loc, message: str, value: Any = None) -> None:
        self.found.append(InitErrorDetails(type=problem(message), loc=loc, input=value))

    def extend(self, problems: Iterator[tuple[Loc, str]]) -> None:
        for loc, message in problems:
            self.add(loc, message)

    def raise_any(self) -> None:
        # Pydantic puts the locations of a ValidationError raised inside a validator under the model's own.
        if self.found:
            raise ValidationError.from_exception_data(type(self.model).__name__, self.found)


def kind(raw: Any) -> str:
    """What a value is, in the words of someone writing YAML."""
    if isinstance(raw, str):
        return f"text {raw!r}"
    if isinstance(raw, bool):
        return str(raw).lower()
    names = {type(None): "nothing", dict: "a mapping", list: "a list", int: "a number", float: "a number"}
    return names.get(type(raw), type(raw).__name__)


def as_yaml(value: Any) -> str:
    """A value as it is written in the file: true / false rather than Python's True / False."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def listed(values: Any) -> str:
    return ", ".join(sorted(str(value) for value in values))


# Field types ------------------------------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise problem("must be a non-empty string, not blank text")
    return " ".join(value.split())


def _member_of(enum: type, what: str) -> Callable[[Any], Any]:
    def check(raw: Any) -> Any:
        if raw not in enum._value2member_map_:
            raise problem(f"{raw!r} is not {what} (one of: {', '.join(enum._value2member_map_)})")
        return enum(raw)

    return check


def _scalar(raw: Any) -> Any:
    if isinstance(raw, bool | str) or (isinstance(raw, int | float) and not is_nan(raw)):
        return raw
    raise problem(f"must be true, false, a number or a text, not {kind(raw)}")


def _number(raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or is_nan(raw):
        raise problem(f"must be a number, not {kind(raw)}")
    return raw


def is_nan(raw: Any) -> bool:
    return isinstance(raw, float) and math.isnan(raw)


# Text shown to patients or staff: runs of white space (YAML's folded lines) become one space.
Text = Annotated[str, StringConstraints(min_length=1), AfterValidator(_not_blank)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
ChoiceValue = Annotated[str, StringConstraints(pattern=CHOICE_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
TierName = Annotated[Tier, BeforeValidator(_member_of(Tier, "a tier"))]
TypeName = Annotated[AnswerType, BeforeValidator(_member_of(AnswerType, "an answer type"))]
# An answer written in a condition or a points table: yes/no, a number or a choice value.
Scalar = Annotated[Any, BeforeValidator(_scalar), WithJsonSchema({"type": ["boolean", "number", "string"]})]
Number = Annotated[Any, BeforeValidator(_number), WithJsonSchema({"type": "number"})]


class FileModel(BaseModel):
    """A part of a definition file: exact types (YAML's ``"1"`` is not 1) and no fields beyond the declared."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def given(self, name: str) -> bool:
        """Whether the file wrote this field (written as nothing counts), as opposed to it taking its default."""
        return name in self.model_fields_set


def same(a: Any, b: Any) -> bool:
    # YAML's true is not the number 1, though Python says True == 1.
    return type(a) is type(b) and a == b


def duplicates(models: list[FileModel], field: str, loc: Loc, message: str) -> Iterator[tuple[Loc, str]]:
    seen: set[Any] = set()
    for index, model in enumerate(models):
        value = getattr(model, field)
        if value in seen:
            yield (*loc, index, field), message.format(value)
        seen.add(value)
