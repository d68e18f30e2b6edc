"""Random ids in OpenAI's shapes (chatcmpl-…, call_…, resp_…)."""

from __future__ import annotations

import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_hex_id(prefix: str, length: int = 48) -> str:
    """Responses API ids (resp_, msg_, fc_) are hex."""
    return prefix + secrets.token_hex(length // 2)


def estimate_tokens(text: str) -> int:
    """About four characters per token: good enough for usage numbers in tests."""
    return (len(text) + 3) // 4
