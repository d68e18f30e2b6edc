"""The stub's app factory: tests build it the same way main() does."""

from __future__ import annotations

from aiohttp import web

from .chat import chat_completions
from .control import add_control_routes
from .middleware import openai_surface
from .models import list_models, retrieve_model
from .responses import create_response, retrieve_response
from .settings import StubSettings
from .state import STATE, StubState

# Base64 images make real requests large; OpenAI takes far more than aiohttp's 1 MiB default.
MAX_BODY_BYTES = 64 * 1024 * 1024


def create_app(settings: StubSettings) -> web.Application:
    """The OpenAI-compatible /v1 routes plus the /_stub control API."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[openai_surface])
    state = StubState(settings)
    if settings.scripts is not None:
        state.scripts.load(settings.scripts)  # a broken file stops the start, loudly
    app[STATE] = state
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/responses", create_response)
    app.router.add_get("/v1/responses/{response_id}", retrieve_response)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", retrieve_model)
    add_control_routes(app)
    return app
