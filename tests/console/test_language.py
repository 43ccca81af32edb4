"""The console's language: the browser's until the user picks one, then theirs everywhere; the
API stays in English; the compiled catalogs match their sources and every marked string."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from iam.demo import seed_demo_world
from iam.models import AuditEvent, User

pytestmark = pytest.mark.django_db

CATALOGS = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def admin(db) -> User:  # type: ignore[no-untyped-def]
    seed_demo_world()
    return User.objects.get(name="admin")


def test_the_console_follows_the_browser_until_a_language_is_picked(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    assert "角色" in client.get("/roles/", **CHINESE).content.decode()
    assert "Roles" in client.get("/roles/").content.decode()


def test_a_picked_language_is_remembered_for_the_user_in_another_browser(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.post("/language/", {"language": "zh-hans", "next": "/roles/"})
    other_browser = type(client)()
    other_browser.force_login(User.objects.get(pk=admin.pk))
    assert response["Location"] == "/roles/"
    assert User.objects.get(pk=admin.pk).language == "zh-hans"
    assert '<html lang="zh-hans">' in other_browser.get("/roles/").content.decode()


def test_the_pick_wins_over_the_browser(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    client.post("/language/", {"language": "en"})
    assert '<html lang="en">' in client.get("/roles/", **CHINESE).content.decode()


def test_the_logon_page_speaks_the_language_picked_before_logging_on(client, db) -> None:  # type: ignore[no-untyped-def]
    client.post("/language/", {"language": "zh-hans", "next": "/logon/"})
    assert '<html lang="zh-hans">' in client.get("/logon/").content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert User.objects.get(pk=admin.pk).language == ""


def test_dates_follow_the_language(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    page = client.get("/roles/ecs-admin/", **CHINESE).content.decode()
    assert f"{admin.created.year}年{admin.created.month}月" in page


def test_the_api_answers_in_english_whatever_the_request_asks(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/?Action=GetCallerIdentity&Version=2015-04-01&Format=JSON", **CHINESE)
    assert response.status_code >= 400
    assert response.json()["Message"].isascii()
    assert response["Content-Language"] == "en"


# --- the catalogs --------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_compiled_catalog_is_the_source_catalog(domain: str) -> None:
    """The .mo the server reads says exactly what the .po says (compilemessages was run)."""
    source = CATALOGS / f"{domain}.po"
    with (CATALOGS / f"{domain}.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in polib.pofile(str(source)).translated_entries():
        context = entry.msgctxt
        if entry.msgid_plural:
            found = (
                compiled.npgettext(context, entry.msgid, entry.msgid_plural, 1)
                if context
                else compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
            )
            assert found == entry.msgstr_plural[0], entry.msgid
        else:
            found = (
                compiled.pgettext(context, entry.msgid)
                if context
                else compiled.gettext(entry.msgid)
            )
            assert found == entry.msgstr, entry.msgid


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_is_translated(domain: str) -> None:
    catalog = polib.pofile(str(CATALOGS / f"{domain}.po"))
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])


def msgids(catalog: Path) -> set[tuple[str, str]]:
    if not catalog.exists():
        return set()
    return {(entry.msgctxt or "", entry.msgid) for entry in polib.pofile(str(catalog))}


def test_the_catalog_holds_every_string_marked_in_the_code(tmp_path: Path) -> None:
    """makemessages (GNU gettext's xgettext) finds no string the committed catalog lacks."""
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext); CI installs it")
    extracted = tmp_path / "zh_Hans" / "LC_MESSAGES"
    extracted.mkdir(parents=True)
    with override_settings(LOCALE_PATHS=[tmp_path]):
        for domain in ("django", "djangojs"):
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                domain=domain,
                ignore_patterns=[".venv", "tests", "node_modules", "var", "test-artifacts"],
                no_location=True,
                verbosity=0,
            )
    for domain in ("django", "djangojs"):
        marked = extracted / f"{domain}.po"
        committed = CATALOGS / f"{domain}.po"
        wanted = {entry.msgid for entry in polib.pofile(str(marked))} if marked.exists() else set()
        have = (
            {entry.msgid for entry in polib.pofile(str(committed))} if committed.exists() else set()
        )
        assert sorted(wanted - have) == [], f"{domain}: run makemessages and translate"


def test_the_switch_goes_back_to_the_page_it_was_pressed_on(client, admin) -> None:  # type: ignore[no-untyped-def]
    client.force_login(admin)
    response = client.post(
        "/language/", {"language": "zh-hans"}, HTTP_REFERER="http://testserver/roles/?q=ecs"
    )
    assert response["Location"] == "/roles/?q=ecs"


def test_the_trail_keeps_a_chinese_pages_denial_in_english(client, db) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    client.force_login(User.objects.get(name="auditor"))
    page = client.post("/roles/devops/delete/", **CHINESE)
    event = AuditEvent.objects.filter(action="ram:DeleteRole").latest("id")
    assert page.status_code == 403 and "拒绝" in page.content.decode()
    assert event.details["explanation"].startswith("Denied: ")


def test_a_refused_switch_is_explained_in_chinese_and_kept_in_english(client, db) -> None:  # type: ignore[no-untyped-def]
    seed_demo_world()
    client.force_login(User.objects.get(name="auditor"))
    page = client.post(
        "/switch-role/", {"account": "company1", "role_name": "devops"}, **CHINESE
    ).content.decode()
    event = AuditEvent.objects.filter(action="sts:AssumeRole").latest("id")
    assert "拒绝" in page
    assert event.details["explanation"].startswith("Denied: ")
