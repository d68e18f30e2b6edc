"""Version-controlled prompt templates, rendered with string.Template (`$name`)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from string import Template


@cache
def template(name: str) -> Template:
    return Template(files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    """Fill a template; a missing value is an error, never a silent `$name` in a prompt."""
    return template(name).substitute(values)
