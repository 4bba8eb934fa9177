"""`classnet dashboard` as an attacker meets it: served by Waitress with security headers that
Dash still works under (no CSP violation in headless Chromium), crafted callback requests
answered 400 with one log line each, station names with quotes shown as typed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from selenium.webdriver.common.by import By

from tests.dashboard.conftest import XSS_NAME, XSS_STATION
from tests.dashboard.test_browser import open_page, plot_data, wait

CSP_WATCH = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def _request(url: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_served_by_waitress_with_security_headers(dashboard: Any) -> None:
    for path in ("/", "/compare", "/assets/style.css"):
        status, headers, _ = _request(dashboard.url + path)
        assert status == 200
        assert headers["Server"] == "classnet"  # Waitress's ident, not Werkzeug's dev server
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split(";")[1]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"


def _outputs(spec: str) -> Any:
    """The `outputs` of a callback request for a dependency's output string."""
    many = spec.startswith("..")
    parts = spec.strip(".").split("...") if many else [spec]
    outs = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        outs.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return outs if many else outs[0]


def test_crafted_callback_requests_get_400_and_one_log_line(dashboard: Any, chain: Any) -> None:
    status, _, body = _request(dashboard.url + "/_dash-dependencies")
    assert status == 200
    deps = json.loads(body)
    log = chain.data_dir / "dashboard.log"
    before = log.read_text(errors="replace").splitlines()
    evil = {"$where": [1, {"__proto__": None}], "x": "<script>"}
    bodies = [b"not json at all", b'{"output": 5}', b"[]"]
    for dep in deps:
        bodies.append(
            json.dumps(
                {
                    "output": dep["output"],
                    "outputs": _outputs(dep["output"]),
                    "inputs": [{**i, "value": evil} for i in dep["inputs"]],
                    "state": [{**s, "value": evil} for s in dep.get("state", [])],
                    "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]],
                }
            ).encode()
        )
    answers = [_request(dashboard.url + "/_dash-update-component", b)[0] for b in bodies]
    assert 500 not in answers, answers
    assert answers[:3] == [400, 400, 400]
    refused = answers.count(400)
    after = log.read_text(errors="replace").splitlines()[len(before) :]
    assert "Traceback" not in "\n".join(after)
    # One line each; a body that is not JSON at all Flask refuses itself, without a line.
    assert refused - 1 <= len([line for line in after if "callback request from" in line])
    assert len(after) <= refused
    status, _, _ = _request(dashboard.url + "/")
    assert status == 200  # still serving


def test_pages_run_under_the_csp_and_names_keep_their_quotes(
    browser: Any, dashboard: Any, chain: Any
) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
    open_page(browser, f"{dashboard.url}/compare?schools={XSS_STATION}", "Compare schools")
    wait(browser, lambda d: [t for t in plot_data(d, "compare-graph") if t["x"]])
    # Drawn by plotly (svg text), quotes as typed: not &quot; or &#x27;
    drawn = wait(
        browser,
        lambda d: [
            e.text for e in d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot text") if e.text
        ],
    )
    assert any(XSS_NAME in text for text in drawn), drawn
    open_page(browser, dashboard.url + "/regions", "Asia vs Europe")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#regions-graph .scatterlayer .trace"))
    assert browser.execute_script("return window.__csp") == []
