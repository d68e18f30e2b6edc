"""What a request boils down to, whichever API it came through."""

from __future__ import annotations

from dataclasses import dataclass, field

from .formats import OutputFormat


@dataclass(frozen=True, slots=True)
class Item:
    """One turn: a message, a function call, or a function call's output."""

    kind: str  # message | function_call | function_call_output
    role: str = ""
    text: str = ""
    call_id: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Ask:
    model: str
    items: tuple[Item, ...]
    output: OutputFormat = field(default_factory=OutputFormat)
    tools: tuple[str, ...] = ()  # callable function names
    tool_choice: str = "auto"  # none | auto | required | function
    forced_tool: str | None = None

    def text(self) -> str:
        """The text scripts match against: messages and tool outputs, in order."""
        return "\n".join(item.text for item in self.items if item.kind != "function_call")

    def user_texts(self) -> list[str]:
        return [i.text for i in self.items if i.kind == "message" and i.role == "user"]


def parts_text(content: object) -> str:
    """The text of a string content or of a list of parts (text, input_text, output_text)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [
        part["text"]
        for part in content
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return "\n".join(texts)
