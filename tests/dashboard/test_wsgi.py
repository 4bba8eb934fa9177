"""The WSGI entry point a network runs behind gunicorn (gunicorn itself is not a dependency;
its factory call, `dashboard.wsgi:create_server()`, is what is tested here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.wsgi import create_server
from ingest import open_store
from ingest.domain.errors import UserError


def test_server_serves_the_dashboard_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'classnet.db'}"
    open_store(url).close()  # the gateway made it
    monkeypatch.setenv("CLASSNET_STORE", url)
    client = create_server().test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert b"_dash-config" in page.data


def test_server_without_a_store_says_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("CLASSNET_STORE", raising=False)
    with pytest.raises(UserError, match="set CLASSNET_STORE"):
        create_server()


def test_server_over_a_missing_store_says_so_and_creates_none(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLASSNET_STORE", f"sqlite:{tmp_path / 'typo.db'}")
    with pytest.raises(UserError, match=f"CLASSNET_STORE: no store at {tmp_path / 'typo.db'}"):
        create_server()
    assert list(tmp_path.iterdir()) == []
