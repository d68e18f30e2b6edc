"""The OpenAPI document of the tracker's HTTP interface (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from .states import STATES


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_AUTH = {
    "401": _error("Missing or wrong bearer token."),
}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["task_id", "state"],
    "properties": {
        "task_id": {"type": "string"},
        "email": _NULLABLE_TEXT,
        "task": _NULLABLE_TEXT,
        "round": {"type": ["integer", "null"]},
        "nonce": _NULLABLE_TEXT,
        "state": {"enum": list(STATES)},
        "stage": {
            **_NULLABLE_TEXT,
            "description": "The service working on the task now; once finished, the one "
            "that finished it.",
        },
        "received_at": _NULLABLE_TIME,
        "deadline": _NULLABLE_TIME,
        "finished_at": _NULLABLE_TIME,
        "repo_url": _NULLABLE_TEXT,
        "commit_sha": _NULLABLE_TEXT,
        "pages_url": _NULLABLE_TEXT,
        "outcome": {"enum": ["notified", "degraded", "failed", None]},
        "degraded": {"type": "boolean"},
        "degraded_reason": _NULLABLE_TEXT,
        "selfcheck": {"type": ["object", "null"]},
        "failure_stage": _NULLABLE_TEXT,
        "failure_reason": _NULLABLE_TEXT,
        "trace_id": _NULLABLE_TEXT,
        "trace_url": {**_NULLABLE_TEXT, "description": "From TRACKER_TRACE_URL_TEMPLATE."},
        "first_seen_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "seq": {"type": "integer", "description": "Seq of the last change to this task."},
    },
}
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "event_id", "task_id", "type", "time"],
    "properties": {
        "seq": {"type": "integer"},
        "event_id": {"type": "string", "format": "uuid"},
        "task_id": {"type": "string"},
        "type": {"type": "string", "examples": ["site.published.v1"]},
        "source": {"type": "string"},
        "stage": _NULLABLE_TEXT,
        "time": {"type": "string", "format": "date-time"},
        "recorded_at": {"type": "string", "format": "date-time"},
        "trace_id": _NULLABLE_TEXT,
        "detail": {"type": "object"},
    },
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def document() -> dict[str, Any]:
    ok_json = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Pagesmith tracker",
            "version": "1",
            "description": "Every task's state and timeline. Every /api route needs "
            "`Authorization: Bearer <TRACKER_TOKEN>`; every error is JSON.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                },
                "Task": TASK_SCHEMA,
                "Event": EVENT_SCHEMA,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/tasks": {
                "get": {
                    "summary": "Tasks, newest first, filtered and paginated by cursor.",
                    "parameters": [
                        _query("email", "Exactly this email."),
                        _query("task", "Exactly this task name."),
                        _query("round", "1 or 2.", {"type": "integer"}),
                        _query("state", f"One or more of {', '.join(STATES)}, comma-separated."),
                        _query("since", "Received since: 30m, 1h, 2d, 1w or an ISO 8601 time."),
                        _query("limit", "1 to 200 (50).", {"type": "integer"}),
                        _query("cursor", "next_cursor of the previous page."),
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of tasks.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "tasks": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Task"},
                                            },
                                            "next_cursor": _NULLABLE_TEXT,
                                            "now": {"type": "string", "format": "date-time"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error("A filter, limit or cursor it cannot use."),
                        **_AUTH,
                        "503": _error("The database is not reachable."),
                    },
                }
            },
            "/api/tasks/{task_id}": {
                "get": {
                    "summary": "One task and its timeline (events in the order they happened).",
                    "parameters": [
                        {
                            "name": "task_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The task and its timeline.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "task": {"$ref": "#/components/schemas/Task"},
                                            "timeline": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Event"},
                                            },
                                        },
                                    }
                                }
                            },
                        },
                        **_AUTH,
                        "404": _error("No such task in the ledger (yet)."),
                        "503": _error("The database is not reachable."),
                    },
                }
            },
            "/api/tasks/events": {
                "get": {
                    "summary": "Live updates as Server-Sent Events.",
                    "description": "Frames: `ready` (data: seq, now) once subscribed; `change` "
                    "(id: seq; data: seq, task, event) per committed event; `reset` when a "
                    "catch-up is too long to replay (reload instead); `: ping` comments as "
                    "heartbeats. Send `Last-Event-ID` (or `since`) to replay what was missed.",
                    "parameters": [
                        _query("task_id", "Only this task's changes."),
                        _query("since", "Replay changes after this seq.", {"type": "integer"}),
                        {
                            "name": "Last-Event-ID",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "integer"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The stream.",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "400": _error("An unknown parameter or a bad Last-Event-ID."),
                        **_AUTH,
                        "503": _error("The database is not reachable."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1.",
                            "content": {"application/json": {"schema": ok_json}},
                        },
                        **_AUTH,
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "The live page (asks for the token; no data without it).",
                    "security": [],
                    "responses": {"200": {"description": "HTML.", "content": {"text/html": {}}}},
                }
            },
            "/page/{name}": {
                "get": {
                    "summary": "The page's script and style sheet.",
                    "security": [],
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": ["app.js", "app.css"]},
                        }
                    ],
                    "responses": {
                        "200": {"description": "The file."},
                        "404": _error("No such file."),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness.",
                    "security": [],
                    "responses": {"200": {"description": "Alive.", "content": {}}},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Consuming from the broker and the database answering.",
                    "security": [],
                    "responses": {
                        "200": {"description": "Ready."},
                        "503": {"description": "Not ready."},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics.",
                    "security": [],
                    "responses": {"200": {"description": "Text exposition."}},
                }
            },
        },
    }
