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


def _widget(kind: type[forms.Widget] = forms.TextInput, **attrs) -> forms.Widget:
    return kind(attrs={"class": "form-control", **attrs})


class YouthAddForm(forms.Form):
    """A youth met in the field: the few facts a cadre can ask on the spot. Business rules
    (duplicates, the phone held elsewhere, minors, the link) are cadres.services'."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        error_messages={"required": _("请填写姓名。")},
        widget=_widget(autocomplete="off"),
    )
    phone = forms.CharField(
        label=_("手机号（可不填）"),
        max_length=30,
        required=False,
        widget=_widget(inputmode="tel", autocomplete="off"),
    )
    sector = forms.ModelChoiceField(
        label=_("领域"),
        queryset=None,
        error_messages={"required": _("请选择领域。"), "invalid_choice": _("请选择领域。")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    unit = forms.CharField(
        label=_("单位/学校/村（嘎查）"), max_length=100, required=False, widget=_widget()
    )
    birth_year = forms.IntegerField(
        label=_("出生年份"),
        error_messages={"required": _("请填写出生年份。"), "invalid": _("请填写 4 位年份。")},
        widget=_widget(forms.NumberInput, inputmode="numeric", placeholder="1998"),
    )
    gender = forms.ChoiceField(
        label=_("性别（可不填）"),
        required=False,
        choices=[("", _("不填")), ("M", _("男")), ("F", _("女"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    guardian_consent = forms.BooleanField(
        label=_("未满 14 周岁：已征得监护人同意"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    cadre = forms.ModelChoiceField(
        label=_("联系的团干部"),
        queryset=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    # Set by the "link instead" / "somebody else" buttons of the duplicate prompt.
    link_existing = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, own_cadre, **kwargs):
        import datetime

        from .models import Sector
        from .selectors import cadre_list

        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = Sector.objects.filter(is_active=True)
        year = datetime.date.today().year
        self.fields["birth_year"].widget.attrs.update({"min": year - 60, "max": year})
        if own_cadre is not None:
            del self.fields["cadre"]  # a cadre adds to their own list
        else:
            self.fields["cadre"].required = True
            self.fields["cadre"].error_messages["required"] = _("请选择团干部。")
            self.fields["cadre"].queryset = cadre_list(user=user).order_by(
                "organisation__path", "name"
            )
            self.fields["cadre"].label_from_instance = lambda c: (
                f"{c.name}（{c.organisation.name}）"
            )

    def clean_birth_year(self):
        import datetime

        year = self.cleaned_data["birth_year"]
        this_year = datetime.date.today().year
        if not this_year - 60 <= year <= this_year:
            raise forms.ValidationError(
                _("出生年份应在 %(a)s 到 %(b)s 之间。") % {"a": this_year - 60, "b": this_year}
            )
        return year


class ChannelForm(forms.Form):
    """A liaison channel the cadre holds (the 9 kinds of the source report)."""

    kind = forms.ChoiceField(
        label=_("渠道类型"),
        choices=(),
        error_messages={"required": _("请选择渠道类型。"), "invalid_choice": _("请选择渠道类型。")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        label=_("联系的组织、班级、企业或阵地名称"),
        max_length=100,
        error_messages={"required": _("请填写名称。")},
        widget=_widget(),
    )
    established_on = forms.DateField(
        label=_("建立日期"),
        error_messages={"required": _("请填写日期。"), "invalid": _("日期格式不正确。")},
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    shows_identity = forms.BooleanField(
        label=_("青年之家：在阵地亮明我的身份和联系方式"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False, widget=_widget())

    def __init__(self, *args, **kwargs):
        import datetime

        from .models import LiaisonChannel

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("请选择")), *LiaisonChannel.Kind.choices]
        self.fields["established_on"].initial = datetime.date.today()


class YouthEditForm(forms.Form):
    """A youth's registry entry corrected by staff (`cadres.registry.youth_update`): the same
    facts as a field add, plus WeChat and notes. The phone rule is the service's."""

    name = YouthAddForm.base_fields["name"]
    phone = forms.CharField(
        label=_("手机号"),
        max_length=30,
        required=False,
        widget=_widget(inputmode="tel", autocomplete="off"),
    )
    sector = YouthAddForm.base_fields["sector"]
    unit = YouthAddForm.base_fields["unit"]
    birth_year = YouthAddForm.base_fields["birth_year"]
    gender = YouthAddForm.base_fields["gender"]
    wechat_id = forms.CharField(label=_("微信号"), max_length=40, required=False, widget=_widget())
    notes = forms.CharField(label=_("备注"), required=False, widget=_widget(forms.Textarea, rows=3))

    def __init__(self, *args, **kwargs):
        import datetime

        from .models import Sector

        super().__init__(*args, **kwargs)
        self.fields["sector"].queryset = Sector.objects.filter(is_active=True)
        year = datetime.date.today().year
        self.fields["birth_year"].widget.attrs.update({"min": year - 60, "max": year})

    clean_birth_year = YouthAddForm.clean_birth_year


class MoveAwayForm(forms.Form):
    on = forms.DateField(
        label=_("迁出日期"),
        error_messages={"required": _("请填写日期。"), "invalid": _("日期格式不正确。")},
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
