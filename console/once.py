"""Forms that act once: a repeated submission of the same console form does not do its work again.

Every create form carries a one-time random token in a hidden field (``{% form_token %}``, made
when the form is rendered). A view decorated with ``submit_once`` handles a POST that carries one
like this:

- The first POST with the token claims it, by inserting a ``console.models.FormSubmission`` row
  whose primary key is the token, and does its work in the same transaction. If the work is done
  (the view called ``remember``, or it answered with a redirect), the row keeps the outcome, a
  redirect target or the identity of what was created, never a secret. Otherwise (a form
  re-rendered with its errors, a wizard step, a refusal) the claim is dropped, so fixing the form
  and sending it again is a new first submission.
- A later POST with the same token, from the same logon session within ``LIFETIME``, does not
  run the view: it answers with the first one's outcome. A remembered ``url`` is followed (with a
  note that the form was sent more than once); any other outcome is answered by the view's
  ``replay``.

Two simultaneous POSTs with the same token cannot both claim it: on PostgreSQL the second INSERT
waits on the unique index until the first transaction ends, then fails and reads the committed
outcome (or, if the first rolled back, succeeds and does the work itself); on SQLite every
transaction begins with BEGIN IMMEDIATE, so the second starts only after the first committed.

The outcome is kept in the database rather than in ``request.session`` because two requests of one
session save their session copies over each other, and because the waiting request needs the
outcome the moment the first commits, before the first has saved its session. The rows are still
the logon session's: each names its owner (a keyed hash of the session key, which rotates at logon
and at each role switch), a token from another session is refused, at most ``PER_SESSION`` rows a
session are kept, and rows older than ``LIFETIME`` are deleted.

A POST without a token (a client other than the console's own forms) is handled as before,
without this protection. Without JavaScript the console's forms still carry their tokens, so a
double click or a resent form is caught here; with JavaScript, ``console.js`` also disables the
submit button while a request runs.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from console.models import FormSubmission

FIELD = "form_token"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
LIFETIME = timedelta(minutes=10)
PER_SESSION = 50
ALREADY_DONE = gettext_lazy("This form was sent more than once; it was carried out once.")
FOREIGN_TOKEN = gettext_lazy(
    "This form was already sent from another logon session. Reload the page and fill it in again."
)

Replay = Callable[..., HttpResponse]


def new_token() -> str:
    return secrets.token_urlsafe(18)


def remember(request: Any, **outcome: str) -> None:
    """Record that the view did its work, and what a repeated submission should be shown.
    ``outcome`` is stored as JSON: identities and URLs, never a secret."""
    request.form_outcome = outcome


def submit_once(
    view: Callable[..., HttpResponse] | None = None, *, replay: Replay | None = None
) -> Any:
    """Decorate a view whose POST creates something (``@submit_once`` or
    ``@submit_once(replay=...)``); see the module docstring.

    ``replay(request, outcome, *args, **kwargs)`` answers a repeated submission whose first one
    remembered an outcome without a ``url``.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
            token = submitted_token(request)
            if token is None:
                return view(request, *args, **kwargs)
            owner = session_owner(request)
            prune(owner)
            with transaction.atomic():
                earlier = claim(token, owner)
                if earlier is None:
                    response = view(request, *args, **kwargs)
                    settle(token, outcome_of(request, response))
                    return response
            return answer_repeat(request, earlier, owner, replay, args, kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def submitted_token(request: Any) -> str | None:
    if request.method != "POST":
        return None
    token = request.POST.get(FIELD, "")
    return token if TOKEN_RE.match(token) else None


def session_owner(request: Any) -> str:
    """Who may see a token's outcome: this logon session (its key is never stored as such)."""
    key = request.session.session_key or ""
    return salted_hmac("console.once.owner", key, algorithm="sha256").hexdigest()[:40]


def claim(token: str, owner: str) -> FormSubmission | None:
    """Claim ``token`` for this submission (None), or return the submission that holds it."""
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                FormSubmission.objects.create(token=token, owner=owner, claimed=now)
            return None
        except IntegrityError:
            pass
        # A row past its lifetime no longer counts; take it over (one statement, so a
        # concurrent taker waits for this one and then finds it fresh).
        if FormSubmission.objects.filter(token=token, claimed__lt=now - LIFETIME).update(
            owner=owner, claimed=now, outcome={}
        ):
            return None
        earlier = FormSubmission.objects.filter(token=token).first()
        if earlier is not None:
            return earlier
        # Deleted between the INSERT and the read (pruned): try once more.
    raise IntegrityError(f"form token {token[:8]}… could not be claimed")


def outcome_of(request: Any, response: HttpResponse) -> dict[str, str] | None:
    """What the view did: what it remembered, else the redirect it answered with, else None
    (nothing was done)."""
    remembered = getattr(request, "form_outcome", None)
    if remembered is not None:
        return remembered
    if response.has_header("HX-Redirect"):
        return {"url": response["HX-Redirect"]}
    if response.status_code in (301, 302, 303) and response.has_header("Location"):
        return {"url": response["Location"]}
    return None


def settle(token: str, outcome: dict[str, str] | None) -> None:
    if outcome is None:
        FormSubmission.objects.filter(token=token).delete()
    else:
        FormSubmission.objects.filter(token=token).update(outcome=outcome)


def answer_repeat(
    request: Any,
    earlier: FormSubmission,
    owner: str,
    replay: Replay | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponse:
    if earlier.owner != owner:
        return foreign_token_response(request)
    url = earlier.outcome.get("url")
    if url is None and replay is not None:
        return replay(request, earlier.outcome, *args, **kwargs)
    messages.info(request, ALREADY_DONE)
    if request.htmx:
        return HttpResponseClientRedirect(url or "/")
    return redirect(url or "/")


def foreign_token_response(request: Any) -> HttpResponse:
    """Another logon session sent this token first (after logging on again, or after a role
    switch in another tab): its outcome is not this session's to see."""
    context = {"message": FOREIGN_TOKEN}
    if not request.htmx:
        return render(request, "console/409.html", context, status=409)
    response = render(request, "console/_busy.html", context, status=409)
    response["HX-Retarget"] = "#notices"
    response["HX-Reswap"] = "innerHTML"
    return response


def prune(owner: str) -> None:
    """Forget submissions past their lifetime, and all but this session's newest ones. Runs
    before the claim's transaction, so it never holds row locks while a view works."""
    FormSubmission.objects.filter(claimed__lt=timezone.now() - LIFETIME).delete()
    oldest = FormSubmission.objects.filter(owner=owner).order_by("-claimed")[PER_SESSION:]
    stale = list(oldest.values_list("token", flat=True))
    if stale:
        FormSubmission.objects.filter(token__in=stale).delete()


def forget_session(request: Any) -> None:
    """At log off: the session's submissions go with it."""
    FormSubmission.objects.filter(owner=session_owner(request)).delete()
