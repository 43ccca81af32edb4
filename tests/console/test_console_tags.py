"""{% denied %}: a button that cannot be used says why, to keyboard and screen-reader users too."""

from __future__ import annotations

import re

from django.template import Context, Template

DENIED = Template(
    "{% load console_tags %}{% denied reason kind as why %}<button {{ why.attrs }}>Go</button>{{ why.note }}"
)


def render(reason: str, kind: str = "") -> str:
    return DENIED.render(Context({"reason": reason, "kind": kind}))


def test_a_denied_button_is_described_by_its_reason() -> None:
    html = render("Denied: <ram:DeleteRole>")
    described_by = re.search(r'aria-describedby="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert 'type="button" aria-disabled="true"' in html
    assert f'id="{described_by}">Denied: &lt;ram:DeleteRole&gt;</span>' in html


def test_a_submit_button_without_a_reason_is_an_ordinary_one() -> None:
    assert render("", "submit") == '<button type="submit">Go</button>'


def test_a_button_always_denied_has_a_reason_even_when_none_came() -> None:
    assert "You are not allowed to do this." in render("")


def test_two_denied_buttons_have_different_descriptions() -> None:
    ids = re.findall(r'aria-describedby="([^"]+)"', render("no") + render("no"))
    assert len(set(ids)) == 2
