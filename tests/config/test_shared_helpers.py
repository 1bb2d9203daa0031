"""The shared helpers of config/: save_form (a form page's POST) and app_modules (the apps'
opt-in modules, for the demo seed and the panels)."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from config.app_modules import app_modules
from config.forms import run_action, save_form


class NameForm(forms.Form):
    name = forms.CharField(max_length=10)


def _refuse(field: str | None):
    def service():
        if field is None:
            raise ValidationError("不行")
        raise ValidationError({field: "不行"})

    return service


def test_save_form_returns_the_service_result_for_a_valid_post():
    request = RequestFactory().post("/", {"name": "王芳"})
    form = NameForm(request.POST)
    assert save_form(request, form, lambda: form.cleaned_data["name"] + "!") == "王芳!"


def test_save_form_does_not_call_the_service_on_get_or_an_invalid_form():
    called = []
    get = RequestFactory().get("/")
    assert save_form(get, NameForm(None), lambda: called.append(1)) is None
    post = RequestFactory().post("/", {"name": "x" * 11})
    form = NameForm(post.POST)
    assert save_form(post, form, lambda: called.append(1)) is None
    assert called == [] and form.errors["name"]


@pytest.mark.parametrize(
    ("field", "where"), [("name", "name"), ("other", "__all__"), (None, "__all__")]
)
def test_a_refused_save_lands_on_the_form_which_keeps_the_input(field, where):
    request = RequestFactory().post("/", {"name": "王芳"})
    form = NameForm(request.POST)
    assert save_form(request, form, _refuse(field)) is None
    assert form.errors[where] == ["不行"]
    assert form["name"].value() == "王芳"


def test_app_modules_lists_the_project_apps_with_the_module_in_installed_order():
    assert [app for app, _module in app_modules("demo")] == [
        "cadres",
        "contacts",
        "surveys",
        "activities",
        "assessment",
    ]
    assert [app for app, _module in app_modules("panels")] == [
        "cadres",
        "contacts",
        "surveys",
        "activities",
        "assessment",
    ]
    assert list(app_modules("no_such_module")) == []


def _post_with_messages(data: dict):
    from django.contrib.messages.storage.cookie import CookieStorage

    request = RequestFactory().post("/", data)
    request._messages = CookieStorage(request)
    return request


def _lines(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in request._messages]


def test_run_action_says_done_when_the_action_ran():
    request = _post_with_messages({"name": "王芳"})
    form = NameForm(request.POST)
    ran = []
    assert run_action(request, lambda: ran.append(form.cleaned_data["name"]), "好了", form=form)
    assert ran == ["王芳"] and _lines(request) == [("success", "好了")]


def test_run_action_reports_an_invalid_form_or_a_refusal_as_one_error_line():
    request = _post_with_messages({"name": ""})
    assert not run_action(request, lambda: pytest.fail("ran"), "好了", form=NameForm(request.POST))
    assert [tag for tag, _text in _lines(request)] == ["error"]
    request = _post_with_messages({})
    assert not run_action(request, _refuse("name"), "好了")
    assert _lines(request) == [("error", "不行")]
