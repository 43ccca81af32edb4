"""Why a role session ended, stored in English, is said in the page's language."""

from __future__ import annotations

from django.utils import translation

from console.session_reasons import in_words


def test_a_known_reason_is_said_in_chinese_with_its_names() -> None:
    with translation.override("zh-hans"):
        said = in_words("an administrator revoked the active sessions of role ecs-admin")
    assert said == "管理员撤销了角色 ecs-admin 的活动会话"


def test_a_reason_inside_a_reason_is_said_too() -> None:
    with translation.override("zh-hans"):
        said = in_words("the role session ended (returned to the logon identity: logged off)")
    assert said == "角色会话已结束（已返回登录身份：已退出登录）"


def test_english_and_unknown_reasons_are_shown_as_stored() -> None:
    with translation.override("zh-hans"):
        unknown = in_words("something new happened")
    assert in_words("user bob was disabled") == "user bob was disabled"
    assert unknown == "something new happened"
