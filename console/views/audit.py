"""Console: the audit trail — filters, keyset paging, event detail with before/after, CSV export,
and the account's hash chain integrity badge.

The application only ever reads events here: every view is GET-only and the model refuses
updates and deletes. Paging walks the primary key downwards (``?before=<id>``): no OFFSET and no
COUNT(*), so a page costs the same at ten events or millions. The badge verifies the account's
chain from its stored checkpoint on (``iam.audit_chain.trail_integrity``), so it too costs what
was appended since the last visit, not the trail's length; the one write a GET makes here is
that checkpoint (a cache of verification, not a change to anything).
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from console.http import (
    ConsoleRequest,
    current_account,
    get_role_or_404,
    require_account_action,
)
from console.views.common import PAGE_SIZE, fragment_or_page
from console.views.role_tabs import render_role_tab
from iam.audit_chain import trail_integrity
from iam.models import AuditEvent
from iam.who_can_assume import who_can_assume

# The export's header row, in the user's language (in English, the names of the fields).
CSV_COLUMNS = [
    pgettext_lazy("audit CSV column", "id"),
    pgettext_lazy("audit CSV column", "time"),
    pgettext_lazy("audit CSV column", "channel"),
    pgettext_lazy("audit CSV column", "logon_identity"),
    pgettext_lazy("audit CSV column", "effective_identity"),
    pgettext_lazy("audit CSV column", "source_ip"),
    pgettext_lazy("audit CSV column", "action"),
    pgettext_lazy("audit CSV column", "resource_arn"),
    pgettext_lazy("audit CSV column", "result"),
    pgettext_lazy("audit CSV column", "error_code"),
    pgettext_lazy("audit CSV column", "request_id"),
    pgettext_lazy("audit CSV column", "details"),
]


class AuditFilterForm(forms.Form):
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("To"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    identity = forms.CharField(label=_("Identity"), max_length=200, required=False)
    action = forms.CharField(label=_("Action"), max_length=128, required=False)
    resource = forms.CharField(label=_("Resource"), max_length=400, required=False)
    result = forms.ChoiceField(
        label=_("Result"), required=False, choices=[("", _("Any")), *AuditEvent.Result.choices]
    )


def filtered_events(request: ConsoleRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    account = current_account(request)
    events = AuditEvent.objects.trail_of(account.pk)
    if not form.is_valid():
        return events
    data = form.cleaned_data
    if data["since"]:
        events = events.filter(time__gte=aware(data["since"]))
    if data["until"]:
        events = events.filter(time__lte=aware(data["until"]))
    if data["identity"]:
        events = events.filter(
            Q(logon_identity__icontains=data["identity"])
            | Q(effective_identity__icontains=data["identity"])
        )
    if data["action"]:
        events = events.filter(action__icontains=data["action"])
    if data["resource"]:
        events = events.filter(resource_arn__icontains=data["resource"])
    if data["result"]:
        events = events.filter(result=data["result"])
    return events


def aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def before_id(request: ConsoleRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


@require_GET
def audit_trail(request: ConsoleRequest) -> HttpResponse:
    require_account_action(request, "ram:ListAuditEvents", "audit")
    form = AuditFilterForm(request.GET or None)
    events = filtered_events(request, form)
    cursor = before_id(request)
    if cursor is not None:
        events = events.filter(id__lt=cursor)
    page = list(events.order_by("-id")[: PAGE_SIZE + 1])
    older = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": page[:PAGE_SIZE],
        "older": older,
        "filter_query": query.urlencode(),
    }
    if not request.htmx:  # the badge is on the page; rows swapped in by htmx go without it
        account = current_account(request)
        context["integrity"] = trail_integrity(account.pk, shown=page[:PAGE_SIZE])
    return fragment_or_page(
        request, "console/audit/_rows.html", "console/audit/trail.html", context
    )


def diff_lines(before: Any, after: Any) -> list[tuple[str, str]]:
    """Changed lines of two pretty-printed values: ("-", line), ("+", line) or (" ", line)."""

    def lines(value: Any) -> list[str]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value.splitlines()
        return json.dumps(value, indent=2, sort_keys=True).splitlines()

    result = []
    for line in difflib.unified_diff(lines(before), lines(after), lineterm="", n=3):
        if line.startswith(("---", "+++", "@@")):
            continue
        result.append((line[:1], line[1:]))
    return result


def with_documents_parsed(value: Any) -> Any:
    """``value`` with the JSON documents held as text in its fields (policy documents, trust
    policies) parsed, so that the full record pretty-prints them instead of one escaped line."""
    if isinstance(value, dict):
        return {key: with_documents_parsed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_documents_parsed(item) for item in value]
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return with_documents_parsed(json.loads(value))
        except ValueError:
            return value
    return value


@require_GET
def audit_event(request: ConsoleRequest, event_id: int) -> HttpResponse:
    require_account_action(request, "ram:GetAuditEvent", "audit")
    account = current_account(request)
    event = AuditEvent.objects.trail_of(account.pk).filter(pk=event_id).first()
    if event is None:
        raise Http404(gettext("No such event in this account's trail."))
    changes = []
    before, after = event.details.get("before"), event.details.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                changes.append(
                    {"field": key, "lines": diff_lines(before.get(key, ""), after.get(key, ""))}
                )
    details = json.dumps(with_documents_parsed(event.details), indent=2, sort_keys=True)
    return render(
        request,
        "console/audit/event.html",
        {"event": event, "changes": changes, "details": details},
    )


class Echo:
    """A file-like object whose write returns the line, for csv.writer over a stream."""

    def write(self, value: str) -> str:
        return value


def csv_rows(events: QuerySet[AuditEvent], header: list[str]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(header)
    for event in events.order_by("-id").iterator(chunk_size=1000):
        yield writer.writerow(
            [
                event.pk,
                event.time.isoformat(),
                event.channel,
                event.logon_identity,
                event.effective_identity,
                event.source_ip,
                event.action,
                event.resource_arn,
                event.result,
                event.error_code,
                event.request_id,
                json.dumps(event.details, sort_keys=True),
            ]
        )


@require_GET
def audit_export(request: ConsoleRequest) -> StreamingHttpResponse:
    require_account_action(request, "ram:ListAuditEvents", "audit")
    events = filtered_events(request, AuditFilterForm(request.GET or None))
    # The header is translated now: the rows are streamed once the request's language is gone.
    header = [str(column) for column in CSV_COLUMNS]
    response = StreamingHttpResponse(
        csv_rows(events, header), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response


@require_GET
def role_events(request: ConsoleRequest, role_name: str) -> HttpResponse:
    """The role's Events tab: its own trail, newest first."""
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    require_account_action(request, "ram:ListAuditEvents", "audit")
    events = AuditEvent.objects.filter(account_id=role.account_id, resource_arn=role.arn)
    context = {"events": list(events.order_by("-id")[:PAGE_SIZE])}
    return render_role_tab(request, role, "events", context)


@require_GET
def role_who_can_assume(request: ConsoleRequest, role_name: str) -> HttpResponse:
    """The role's Who can assume tab: its trust policy resolved to identities."""
    role = get_role_or_404(request, role_name, action="ram:GetRole")
    return render_role_tab(request, role, "who", {"entries": who_can_assume(role)})


urlpatterns = [
    path("audit/", audit_trail, name="audit_trail"),
    path("audit/export.csv", audit_export, name="audit_export"),
    path("audit/<int:event_id>/", audit_event, name="audit_event"),
    path("roles/<str:role_name>/events/", role_events, name="role_events"),
    path(
        "roles/<str:role_name>/who-can-assume/",
        role_who_can_assume,
        name="role_who_can_assume",
    ),
]
