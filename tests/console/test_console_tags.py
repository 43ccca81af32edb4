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


TWO_DENIED = Template(
    "{% load console_tags %}"
    "{% denied 'no' as one %}<button {{ one.attrs }}>A</button>{{ one.note }}"
    "{% denied 'no' as two %}<button {{ two.attrs }}>B</button>{{ two.note }}"
)


def described_by(html: str) -> list[str]:
    return re.findall(r'aria-describedby="([^"]+)"', html)


def test_two_denied_buttons_on_a_page_have_different_descriptions(rf) -> None:  # type: ignore[no-untyped-def]
    ids = described_by(TWO_DENIED.render(Context({"request": rf.get("/roles/")})))
    assert len(set(ids)) == 2


def test_a_page_drawn_twice_has_the_same_ids(rf) -> None:  # type: ignore[no-untyped-def]
    """Nothing random in a page: two renders of it differ only where the data does."""
    first = TWO_DENIED.render(Context({"request": rf.get("/roles/")}))
    assert first == TWO_DENIED.render(Context({"request": rf.get("/roles/")}))
