"""A few filters and tags for the console templates."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.session_reasons import in_words

register = template.Library()


@register.filter
def time_left(expires_at: int) -> str:
    """``42:07 left`` for an epoch expiry (the banner's JavaScript keeps it counting)."""
    left = max(0, int(expires_at) - int(time.time()))
    if not left:
        return _("expired")
    return _("%(time)s left") % {"time": f"{left // 60}:{left % 60:02d}"}


@register.filter
def session_reason(reason: str) -> str:
    """Why a role session ended, in the page's language (``console.session_reasons``)."""
    return in_words(reason or "")


@dataclass(frozen=True)
class Denial:
    """A button's attributes and the note that says why it cannot be used (see ``denied``)."""

    attrs: SafeString
    note: SafeString


FALLBACK_REASON = gettext_lazy("You are not allowed to do this.")


def note_id(context: template.Context, reason: str) -> str:
    """An id unique on the page and the same each time the page is drawn (a random one would tell
    two renders of one page apart): the path, the reason and how many notes came before."""
    request = context.get("request")
    count = getattr(request, "denied_notes", 0) + 1
    if request is not None:
        request.denied_notes = count
    path = request.path if request is not None else ""
    digest = hashlib.sha256(f"{path}|{reason}|{count}".encode()).hexdigest()[:10]
    return f"why-{digest}"


@register.simple_tag(takes_context=True)
def denied(context: template.Context, reason: str, button_type: str = "") -> Denial:
    """``{% denied reason as why %}<button {{ why.attrs }}>Delete</button>{{ why.note }}``.

    A denied button stays in the tab order but does nothing (``type="button"`` with
    ``aria-disabled``, so no form is sent even without JavaScript), and the reason is text the
    button is described by: screen readers read it with the button, and the stylesheet shows it
    beside the button on focus and hover (a ``title`` alone reaches neither keyboard nor
    screen-reader users). Given a ``button_type`` ("submit"), the button is denied only when
    there is a reason, and otherwise an ordinary button of that type.
    """
    if button_type and not reason:
        return Denial(format_html('type="{}"', button_type), mark_safe(""))
    reason = reason or FALLBACK_REASON
    element_id = note_id(context, reason)
    return Denial(
        format_html(
            'type="button" aria-disabled="true" aria-describedby="{}" title="{}"',
            element_id,
            reason,
        ),
        format_html('<span class="why-disabled" id="{}">{}</span>', element_id, reason),
    )
