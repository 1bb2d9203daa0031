from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's login form with mobile-friendly widgets (no autocapitalised usernames)."""

    username = forms.CharField(
        label=_("用户名"),
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocapitalize": "none",
                "autocomplete": "username",
                "class": "form-control",
            }
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "form-control"}
        ),
    )
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续输错 %(limit)s 次后账号将被暂时锁定。"),
        "inactive": _("该账号已停用，请联系团委管理员。"),
    }

    def get_invalid_login_error(self):
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class RosterUploadForm(forms.Form):
    """Upload a roster; organisation and cadre choices are the user's scope only."""

    file = forms.FileField(
        label=_("花名册文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )
    organisation = forms.ModelChoiceField(
        label=_("青年所属组织"),
        queryset=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    cadre = forms.ModelChoiceField(
        label=_("联系的团干部（可不选）"),
        queryset=None,
        required=False,
        help_text=_("选了团干部，文件里的青年都会加入他（她）的联系名单。"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        from .selectors import cadre_list, organisation_list

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)
        self.fields["cadre"].queryset = cadre_list(user=user).order_by("organisation__path", "name")
        self.fields["cadre"].label_from_instance = lambda c: f"{c.name}（{c.organisation.name}）"

    def clean_file(self):
        from .roster import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件太大：请不超过 10 MB，可分成几个文件导入。"))
        if not upload.name.lower().endswith((".xlsx", ".csv", ".txt")):
            raise forms.ValidationError(_("只能导入 .xlsx 或 .csv 文件。"))
        return upload
