"""The publisher's handlers by event type."""

from __future__ import annotations

from collections.abc import Mapping

from pagesmith_runtime import Handler

from .handlers.site_generated import handle_site_generated
from .handlers.task_submitted import handle_task_submitted
from .ports import Deps

HANDLERS: Mapping[str, Handler[Deps]] = {
    "site.generated.v1": handle_site_generated,
    "task.submitted.v1": handle_task_submitted,
}
