"""How a service's ValidationError reaches the user, for every app: on the form that called the
service, or as one message line when there is no form to show it on. And the honeypot every
public (no-login) form carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

# Chinese text joins clauses with a full-width semicolon, not a comma or a space.
SEPARATOR = "；"

T = TypeVar("T")


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, *, rename: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form that called it: on the named field when
    the form has it (after `rename`, for a service argument the form names differently),
    otherwise above the form. The form keeps what the user typed."""
    rename = rename or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = rename.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def save_form(request: HttpRequest, form: forms.BaseForm, save: Callable[[], T]) -> T | None:
    """A form page's POST, the one shape: with a valid form, `save()` (the service call, reading
    `form.cleaned_data`) and its result; a refusal (ValidationError) onto the form, which keeps
    what the user typed. None for a GET, an invalid form or a refused save: render the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return save()
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


def run_action(
    request: HttpRequest,
    act: Callable[[], object],
    done: str,
    *,
    form: forms.BaseForm | None = None,
) -> bool:
    """A POST-only action whose page shows messages, not a form (a button on a list or a detail
    page): an invalid `form` or a refusal of `act()` becomes one error line, success the `done`
    line. True when the action ran; the caller redirects either way."""
    if form is not None and not form.is_valid():
        messages.error(request, form_error_text(form))
        return False
    try:
        act()
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return False
    messages.success(request, done)
    return True


def service_error_text(exc: ValidationError) -> str:
    """A service's ValidationError as one line, for messages.error or a command's error."""
    return SEPARATOR.join(exc.messages)


def form_error_text(form: forms.BaseForm) -> str:
    """A form's errors as one line, for a POST-only action whose page shows messages, not the
    form."""
    return SEPARATOR.join(e for errors in form.errors.values() for e in errors)


class HoneypotForm(forms.Form):
    """A public form's honeypot: `website`, hidden from people by the page (`.lq-hp`), filled in
    by bots. The view answers a bot as if it had succeeded and saves nothing."""

    website = forms.CharField(
        label=gettext_lazy("请勿填写此项"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


RATE_LIMITED = gettext_lazy("提交太频繁了，请一分钟后再试。您填写的内容已保留。")


@dataclass
class PublicPost(Generic[T]):
    """What a public form's POST came to: `saved` (the service's result), `bot` (answer it as if
    saved; nothing was), or neither: render the form with `status`."""

    saved: T | None = None
    bot: bool = False
    status: int = 200


def save_public_form(
    request: HttpRequest,
    form: HoneypotForm,
    save: Callable[[], T],
    *,
    limited: Callable[[HttpRequest], bool],
) -> PublicPost[T]:
    """A public (no-login) form page's POST, the one shape:

    1. over the address's rate limit (`limited`, which counts this request): the form comes back
       with what was typed, one line above it and status 429;
    2. a valid form with the honeypot filled in: `bot`, nothing saved, so a bot learns nothing;
    3. otherwise as `save_form`: `save()`'s result, or its refusal on the form.
    """
    if request.method != "POST":
        return PublicPost()
    if limited(request):
        form.is_valid()
        form.add_error(None, RATE_LIMITED)
        return PublicPost(status=429)
    if form.is_valid() and form.is_bot:
        return PublicPost(bot=True)
    return PublicPost(saved=save_form(request, form, save))


def date_input() -> forms.DateInput:
    """Every form's date picker. type="date" takes ISO dates only: the value is written as ISO
    (the locale's format would show an empty field)."""
    return forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
