"""What every request body shares."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are refused, so a misspelt field is an error rather than silently lost data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
