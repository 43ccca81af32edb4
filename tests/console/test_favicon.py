"""/favicon.ico, which browsers ask for whatever the page links, is the console's SVG icon."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_anyone_to_the_svg_icon(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("console/favicon.svg")


def test_every_page_links_the_icon(client) -> None:  # type: ignore[no-untyped-def]
    assert b'rel="icon" href="/static/console/favicon.svg"' in client.get("/logon/").content
