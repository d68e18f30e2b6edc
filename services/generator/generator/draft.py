"""What the model returns: a strict-schema-safe draft (no open objects, every field required)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DraftFile(BaseModel):
    """One text file the model wrote."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="Repository-relative path with forward slashes, e.g. index.html")
    content: str = Field(description="The complete file content")


class CheckAssertion(BaseModel):
    """A JavaScript expression the model wrote to test one English check in a browser."""

    model_config = ConfigDict(extra="forbid")
    check: str = Field(description="The check's text, copied exactly")
    js: str | None = Field(
        description="A JS expression that is truthy on index.html once loaded when the check "
        "passes; null when the check cannot be tested in the page"
    )


class SiteDraft(BaseModel):
    """The model's answer: files to write, paths to delete, and how to describe the change."""

    model_config = ConfigDict(extra="forbid")
    files: list[DraftFile] = Field(description="Files to create or replace, complete content each")
    deleted: list[str] = Field(description="Paths to delete (round 2 only; else empty)")
    edited_attachments: list[str] = Field(
        description="Attachment names whose content you changed on purpose because the brief "
        "asks for a change (e.g. fix a bug); every other attachment is committed unchanged"
    )
    commit_message: str = Field(description="One-line commit message, imperative, <= 72 chars")
    description: str = Field(description="Repository description, one sentence, <= 200 chars")
    assertions: list[CheckAssertion] = Field(
        description="One entry per English check: a browser-side JS assertion or null"
    )
