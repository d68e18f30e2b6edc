"""`data:` URI decoding (RFC 2397) with the standard library, never a network fetch."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes


class DataUriError(ValueError):
    """The text is not a decodable `data:` URI."""


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    """Return (media type, bytes) of a `data:` URI; base64 and percent-encoded forms."""
    if not uri[:5].lower() == "data:":
        raise DataUriError("not a data: URI")
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise DataUriError("missing ',' between header and payload")
    params = [p.strip() for p in header.split(";")]
    is_base64 = bool(params) and params[-1].lower() == "base64"
    if is_base64:
        params = params[:-1]
    media_type = params[0].lower() if params and "/" in params[0] else "text/plain"
    if is_base64:
        # Base64 payloads sometimes arrive percent-encoded or wrapped; both are legal in a URI.
        text = unquote_to_bytes(payload).translate(None, b" \t\r\n")
        try:
            data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DataUriError("invalid base64 payload") from exc
    else:
        data = unquote_to_bytes(payload)
    return media_type, data
