"""Request signing as the ESD web services expect it (docs/configuration.md,
"Pointing at the real LG Inform Plus service").

A URL is signed by appending ``ApplicationKey=<key>`` to its query, computing
base64(HMAC-SHA1(secret, url)) over the whole URL, and appending ``&Signature=<urlencoded>``.
The LGA's PHP signer hashes the URL-decoded form; a Python client hashes it as sent. The demo
server accepts both, so both forms are exposed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, unquote, urlencode

_SIGNATURE_PARAM = re.compile(r"([?&])Signature=[^&]*")
_KEY_PARAM = re.compile(r"([?&])ApplicationKey=[^&]*")
_NONCE_PARAM = re.compile(r"([?&])nonce=[^&]*")


def signature_for(url: str, secret: str) -> str:
    """base64(HMAC-SHA1(secret, url)) of the URL exactly as given."""
    digest = hmac.new(secret.encode("utf-8"), url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def build_url(base_url: str, path: str, params: list[tuple[str, str]]) -> str:
    """The URL for ``path`` with ``params`` in order; commas and colons kept readable."""
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}?{urlencode(list(params), safe=',:')}"


def sign_url(base_url: str, path: str, params: list[tuple[str, str]], application_key: str, secret: str) -> str:
    """Return the full signed URL for ``path`` with ``params`` (order kept)."""
    unsigned = build_url(base_url, path, [*params, ("ApplicationKey", application_key)])
    return f"{unsigned}&Signature={quote(signature_for(unsigned, secret), safe='')}"


def split_signed_url(url: str) -> tuple[str, str | None]:
    """Split a signed URL into (the URL that was signed, the signature), signature decoded."""
    match = re.search(r"&Signature=([^&]*)$", url)
    if not match:
        return url, None
    return url[: match.start()], unquote(match.group(1))


def verify_signed_url(url: str, secret: str) -> bool:
    """True when the URL's signature matches either the as-sent or the URL-decoded form."""
    unsigned, signature = split_signed_url(url)
    if not signature:
        return False
    for candidate in (unsigned, unquote(unsigned)):
        if hmac.compare_digest(signature_for(candidate, secret), signature):
            return True
    return False


def redact_credentials(url: str) -> str:
    """The URL without ApplicationKey, Signature or nonce: the only form ever logged or stored."""
    cleaned = url
    for pattern in (_SIGNATURE_PARAM, _KEY_PARAM, _NONCE_PARAM):
        cleaned = pattern.sub(r"\1", cleaned)
    cleaned = re.sub(r"&&+", "&", cleaned)
    return re.sub(r"[?&]$", "", cleaned.replace("?&", "?"))
