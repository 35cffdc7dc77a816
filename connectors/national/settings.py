"""[channels.settings] shared by the three national platform connectors."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class NationalSettings(BaseModel):
    """Where the platform is and how huiju signs its requests."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    app_key: Annotated[str, Field(min_length=1, max_length=64)]
    app_secret: Annotated[str, Field(min_length=16)]  # write it as ${ENV_VAR}
    sign_method: Literal["hmac-sha256", "sm3"] = "hmac-sha256"
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    max_response_bytes: Annotated[int, Field(ge=1024, le=256 * 1024 * 1024)] = 16 * 1024 * 1024


