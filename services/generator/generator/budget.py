"""The generation budget: the task's deadline less the time publishing and the callback need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pagesmith_contracts import TaskRef


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Budget:
    """When generation must stop, so the repository, Pages and the callback still fit."""

    ends_at: datetime
    clock: Callable[[], datetime] = field(default=utcnow)

    @classmethod
    def for_task(
        cls, task: TaskRef, reserve_seconds: float, clock: Callable[[], datetime] = utcnow
    ) -> Budget:
        return cls(ends_at=task.deadline - timedelta(seconds=reserve_seconds), clock=clock)

    def remaining(self) -> float:
        return (self.ends_at - self.clock()).total_seconds()

    def expired(self) -> bool:
        return self.remaining() <= 0
