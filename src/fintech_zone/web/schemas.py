"""What every request body and query shares."""

import re
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Strict(BaseModel):
    """Unknown fields are refused, so a misspelt field is an error rather than silently lost data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _iso_date_only(value: object) -> object:
    """Let only ``YYYY-MM-DD`` through to pydantic, whose lax mode would also read ``0`` (or ``"0"``) as
    1970-01-01 and ``2024-05-01T13:00:00Z`` as 2024-05-01 — data quietly changed rather than refused."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_format", "Input should be a date in the format YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A calendar date in a request, body or query: exactly ``YYYY-MM-DD`` (OpenAPI ``format: date``)."""
