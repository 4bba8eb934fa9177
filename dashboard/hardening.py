"""What every dashboard response carries and how bad requests are answered.

Security headers a Dash app can live with: its page runs a few inline scripts of its own (the
renderer, clientside callbacks), whose hashes the policy names instead of allowing inline
scripts in general; the page holds no visitor or station data (the layout comes as JSON), so
what it inlines is Dash's. React sets inline styles, so styles may be inline. Nothing is loaded
from elsewhere (the world map's topojson is in assets/), and no site may frame the dashboard.

A callback request is built by the browser from the layout; one that makes a callback fail
was crafted (or the page is stale). It gets a 400 and one log line, not a 500 and a traceback:
anyone who can reach the dashboard could otherwise fill its log at 2.7 KB a request.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from dash import Dash
from flask import Response, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("classnet.dashboard")
CALLBACK_PATH = "/_dash-update-component"


_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


def content_security_policy(inline_scripts: list[bytes]) -> str:
    """The policy for a page whose inline scripts are `inline_scripts`.

    >>> content_security_policy([b"var renderer = 1;"]).split("; ")[1]
    "script-src 'self' 'sha256-Ic8Uq67UL3bMtzICr5Lk4o7egTm4gjbu18WNA5kDK8o='"
    """
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in dict.fromkeys(inline_scripts)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",  # plotly's "download as PNG" makes a data: URL
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def harden(app: Dash) -> None:
    """Add the headers to every response and answer failing callback requests with 400."""
    server = app.server
    headers = {
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }

    @server.after_request
    def _headers(response: Response) -> Response:
        scripts: list[bytes] = []
        if response.mimetype == "text/html" and not response.direct_passthrough:
            scripts = _INLINE_SCRIPT.findall(response.get_data())
        response.headers.setdefault("Content-Security-Policy", content_security_policy(scripts))
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    @server.errorhandler(Exception)
    def _failed(error: Exception) -> Response | HTTPException:
        if isinstance(error, HTTPException):
            return error
        if request.path.endswith(CALLBACK_PATH):
            log.warning(
                "callback request from %s refused: %s: %s",
                request.remote_addr,
                type(error).__name__,
                str(error)[:200].encode("unicode_escape").decode(),
            )
            return Response("malformed callback request\n", 400, mimetype="text/plain")
        log.error("%s %s failed", request.method, request.path, exc_info=error)
        return Response("internal error\n", 500, mimetype="text/plain")
