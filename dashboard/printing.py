"""A one-page PDF from an HTML page, printed by headless Chromium (Debian's `chromium` package).

Chromium lays out the page exactly as the browser shows it, fonts, CSS `@page` and all; no second
layout engine to keep in step with the dashboard's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ingest.domain.errors import UserError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str:
    """The browser to print with: $CLASSNET_CHROMIUM, else the first of `BROWSERS` on PATH."""
    given = os.environ.get("CLASSNET_CHROMIUM")
    found = given or next((p for p in map(shutil.which, BROWSERS) if p), None)
    if not found:
        raise UserError(
            "no Chromium to print the PDF with: install it (apt install chromium), set "
            "CLASSNET_CHROMIUM to its path, or use --format table / csv"
        )
    return found


def html_to_pdf(html: str, timeout_s: float = 60.0) -> bytes:
    """Print `html` (a whole document) to PDF bytes with headless Chromium."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="classnet-print-") as tmp:
        page, pdf = Path(tmp, "report.html"), Path(tmp, "report.pdf")
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            # Chromium's sandbox refuses to run as root (CI, containers); the page is our own.
            "--no-sandbox",
            f"--user-data-dir={Path(tmp, 'profile')}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise UserError(
                f"{browser} did not print the report within {timeout_s:.0f} s"
            ) from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise UserError(f"{browser} printed no PDF (exit {done.returncode}): {detail[0]}")
        return pdf.read_bytes()
