"""Is the management token accepted? Asked once, before anything is provisioned.

A wrong token used to surface as every scenario failing with "create product
failed: HTTP 401" (exit 1: a CI baseline would read a typo as a server
regression). So conformance, doctor and load ask first, with requests that
change nothing:

1. `GET /api/v1/products?limit=1` (the official contract's listProducts,
   scope `product:read`): 200 is accepted, 401 refused.
2. When the target has no such read (404/405, like the bundled reference
   server) or the token may not read (403: it may still write), an invalid
   create: `POST /api/v1/products` with `{}`. A server authenticates before it
   validates, so 400/422 means accepted and nothing was created; 401/403 refused.

Anything else (a 5xx, a transport error) decides nothing: the run goes on and
is judged. The token is registered as a secret first, so no answer quoted in a
message can carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

from leasecheck.core.client import Exchange, Http
from leasecheck.core.errors import UsageError
from leasecheck.core.inputs import header_value
from leasecheck.core.redact import register_secret

LIST_PRODUCTS = "/api/v1/products?limit=1"
CREATE_PRODUCT = "/api/v1/products"


class TokenRefused(UsageError):
    """The target refused the management token; the message names it as the problem."""


@dataclass(frozen=True)
class TokenCheck:
    """The preflight's answer: accepted True/False, or None when the target did not say."""

    accepted: bool | None
    detail: str


def _said(ex: Exchange) -> str:
    return ex.describe()  # 'GET /api/v1/products?limit=1 -> 401 UNAUTHORIZED'


def check_management_token(http: Http, token: str) -> TokenCheck:
    """Ask the target whether it accepts `token` (see the module docstring). A token
    that cannot go in a header at all is `BadInput` before anything is sent."""
    register_secret(token)
    header_value(token)
    auth = {"Authorization": f"Bearer {token}"}
    read = http.request("GET", LIST_PRODUCTS, headers=auth, operation="preflight")
    if read.status == 200:
        return TokenCheck(True, f"accepted ({_said(read)})")
    if read.status == 401:
        return TokenCheck(False, f"refused ({_said(read)})")
    invalid_create = http.request("POST", CREATE_PRODUCT, json_body={}, headers=auth, operation="preflight")
    if invalid_create.status in (400, 422):
        return TokenCheck(True, f"accepted ({_said(invalid_create)}: refused as invalid, nothing created)")
    if invalid_create.status in (401, 403):
        return TokenCheck(False, f"refused ({_said(invalid_create)})")
    return TokenCheck(None, f"not known: the target did not say ({_said(read)}; {_said(invalid_create)})")


def require_management_token(base_url: str, token: str, *, timeout: float) -> TokenCheck:
    """`check_management_token` on its own connection; `TokenRefused` when refused."""
    with Http(base_url, timeout=timeout) as http:
        check = check_management_token(http, token)
    if check.accepted is False:
        raise TokenRefused(
            f"the management token was {check.detail} at {base_url}: "
            "check --management-token (or LEASECHECK_MANAGEMENT_TOKEN)"
        )
    return check
