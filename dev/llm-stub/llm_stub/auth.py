"""Bearer-token checks with OpenAI's 401 bodies."""

from __future__ import annotations

import hmac

from pydantic import SecretStr

from .errors import ApiError

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username. You can obtain an API key from https://platform.openai.com/account/api-keys."
)


def check_auth(authorization: str | None, key: SecretStr | None) -> None:
    """Any bearer token passes when no key is configured; a missing one never does."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, _NO_KEY)
    expected = key.get_secret_value() if key is not None else None
    if expected is not None and not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(
            401,
            f"Incorrect API key provided: {mask(token)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


def mask(token: str) -> str:
    """Show only the ends of a key, as OpenAI does."""
    if len(token) <= 8:
        return "*" * len(token)
    return token[:3] + "*" * (len(token) - 7) + token[-4:]
