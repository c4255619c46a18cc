"""The base models of every sensitivity factor (shared by :mod:`.spec` and :mod:`.composite_spec`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Factor(_Model):
    id: str = Field(min_length=1)
    label: str | None = None
    assumption: str | None = None
