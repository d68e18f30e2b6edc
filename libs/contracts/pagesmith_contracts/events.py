"""Pagesmith's events: a CloudEvents-named envelope around what each later stage needs.

A breaking change is a new class and type (`…V2`), never an edit. Routing key = `type`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    WithJsonSchema,
)

DEADLINE = timedelta(minutes=10)
_TASK_NS = uuid.UUID("6f1c2a52-0d7e-4c55-9a3e-7f0b8f1f5a11")


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return base64.b64decode(value.encode("ascii"), validate=True)
    raise ValueError("expected bytes or a base64 string")


B64Bytes = Annotated[
    bytes,
    PlainValidator(_to_bytes),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes in Python, one-line base64 on the wire."""


def task_id_for(email: str, task: str, round: int, nonce: str) -> str:
    """The same request always gets the same id, so retries and redeliveries are recognised."""
    # A JSON array keeps the values apart whatever they contain; a separator character would
    # let ("a\x1f1", 1, "n") and ("a", 1, "1\x1fn") share an id.
    key = json.dumps([email, task, round, nonce], ensure_ascii=False, separators=(",", ":"))
    return str(uuid.uuid5(_TASK_NS, key))


def repo_key_for(email: str, task: str) -> str:
    """Stable key of (email, task): round 2 finds round 1's repository by it."""
    return hashlib.sha256(f"{email}\x1f{task}".encode()).hexdigest()[:16]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def safe_file_name(name: str) -> str:
    """Reduce an untrusted name to a safe base name ('' when nothing usable is left)."""
    base = posixpath.basename(name.replace("\\", "/").strip())
    # Accents fold to ASCII ("données" → "donnees"); anything else unsafe becomes "-".
    base = "".join(c for c in unicodedata.normalize("NFKD", base) if not unicodedata.combining(c))
    base = _UNSAFE.sub("-", base)
    stem, _, ext = base.rpartition(".")
    if stem.strip(".") and not stem.strip("-.") and ext.strip("-"):
        # "日本.txt" keeps its extension, which decides how Pages serves it.
        base = f"file.{ext}"
    base = base.strip("-.")
    if len(base) > _MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        keep = len(ext) + 1 if dot and stem and len(ext) <= 16 else 0
        base = base[: _MAX_NAME - keep].rstrip("-.") + (base[-keep:] if keep else "")
    return base


class Check(BaseModel):
    """One grading check. `js` is True for `{"js": …}` checks, None when only text was given."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str
    js: bool | None = None


class Attachment(BaseModel):
    """A decoded attachment. Its bytes never pass through the model."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    media_type: str
    data: B64Bytes


class TaskRef(BaseModel):
    """What any stage needs to know about the task, the deadline included."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    task_id: str
    email: str
    task: str
    round: int
    nonce: str
    evaluation_url: str
    received_at: AwareDatetime
    deadline: AwareDatetime

    @property
    def repo_key(self) -> str:
        return repo_key_for(self.email, self.task)

    def seconds_left(self, now: datetime | None = None) -> float:
        """Seconds until the deadline (negative once past it)."""
        return (self.deadline - (now or datetime.now(UTC))).total_seconds()


class RepoRef(BaseModel):
    """A repository on the forge (GitHub)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    owner: str
    name: str
    html_url: str
    default_branch: str = "main"


FileMode = Literal["100644", "100755"]


class SiteFile(BaseModel):
    """One file of the site: a repository path, its bytes and its git mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str
    content: B64Bytes
    mode: FileMode = "100644"


class ModelUsage(BaseModel):
    """Model calls and tokens spent on one task."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    model: str = ""
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


SelfCheckOutcome = Literal["passed", "failed", "unverified", "skipped"]


class SelfCheckSummary(BaseModel):
    """The browser self-check of the draft that shipped: how many checks passed, which failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    outcome: SelfCheckOutcome
    passed: int = 0
    failed: tuple[str, ...] = ()  # the text of each check the page failed
    unverified: int = 0  # checks the browser could not answer (English, blocked, skipped)


class Event(BaseModel):
    """The envelope, with CloudEvents attribute names; `subject` is the task id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: str
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str
    time: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str
    specversion: Literal["1.0"] = "1.0"


class TaskSubmittedV1(Event):
    """A validated request, accepted by the gateway."""

    type: Literal["task.submitted.v1"] = "task.submitted.v1"
    task: TaskRef
    brief: str
    checks: tuple[Check, ...] = ()
    attachments: tuple[Attachment, ...] = ()


class RepoCheckedOutV1(Event):
    """Round 2: the current files of the task's repository at the head of its branch."""

    type: Literal["repo.checked-out.v1"] = "repo.checked-out.v1"
    task: TaskRef
    brief: str
    checks: tuple[Check, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    repo: RepoRef
    head_sha: str
    files: tuple[SiteFile, ...]


PagesBuild = Literal["legacy", "workflow"]


class SiteGeneratedV1(Event):
    """The files to publish. Round 2 also names the repository, its base commit and deletions."""

    type: Literal["site.generated.v1"] = "site.generated.v1"
    task: TaskRef
    files: tuple[SiteFile, ...]
    deleted: tuple[str, ...] = ()
    repo: RepoRef | None = None
    base_sha: str | None = None
    pages_build: PagesBuild = "legacy"
    commit_message: str
    description: str = ""
    degraded: bool = False
    degraded_reason: str | None = None
    usage: ModelUsage = ModelUsage()
    # None: no self-check summary (a degraded site, or a message from before the field).
    selfcheck: SelfCheckSummary | None = None


class SitePublishedV1(Event):
    """The commit is on the branch and Pages serves it."""

    type: Literal["site.published.v1"] = "site.published.v1"
    task: TaskRef
    repo_url: str
    commit_sha: Annotated[str, Field(pattern=r"^[0-9a-f]{40}$")]
    pages_url: str
    degraded: bool = False
    selfcheck: SelfCheckSummary | None = None  # copied from site.generated


class TaskNotifiedV1(Event):
    """The caller answered 200 to the callback."""

    type: Literal["task.notified.v1"] = "task.notified.v1"
    task: TaskRef
    repo_url: str
    commit_sha: str
    pages_url: str
    attempts: int
    degraded: bool = False


Stage = Literal["gateway", "generator", "publisher", "notifier", "runtime"]


class TaskFailedV1(Event):
    """The end of the road for a task, with the stage and the reason."""

    type: Literal["task.failed.v1"] = "task.failed.v1"
    task: TaskRef | None
    stage: Stage
    reason: str


AnyEvent = Annotated[
    TaskSubmittedV1
    | RepoCheckedOutV1
    | SiteGeneratedV1
    | SitePublishedV1
    | TaskNotifiedV1
    | TaskFailedV1,
    Field(discriminator="type"),
]
EVENT_TYPES: tuple[type[Event], ...] = (
    TaskSubmittedV1,
    RepoCheckedOutV1,
    SiteGeneratedV1,
    SitePublishedV1,
    TaskNotifiedV1,
    TaskFailedV1,
)
_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def decode_event(body: bytes | str) -> AnyEvent:
    """Decode any event from its JSON body; raises pydantic.ValidationError."""
    return _ADAPTER.validate_json(body)


def event_type(cls: type[Event]) -> str:
    """The `type` (and routing key) of an event class."""
    default = cls.model_fields["type"].default
    assert isinstance(default, str)
    return default


def make_task_ref(
    *, email: str, task: str, round: int, nonce: str, evaluation_url: str, received_at: datetime
) -> TaskRef:
    """Build the TaskRef of a request, deadline included."""
    return TaskRef(
        task_id=task_id_for(email, task, round, nonce),
        email=email,
        task=task,
        round=round,
        nonce=nonce,
        evaluation_url=evaluation_url,
        received_at=received_at,
        deadline=received_at + DEADLINE,
    )
