from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from config.forms import date_input
from config.pickers import PickerField, youth_label


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
    organisation = PickerField(
        kind="organisation",
        label=_("青年所属组织"),
        error_messages={"required": _("请选择青年所属组织。")},
    )
    cadre = PickerField(
        kind="cadre",
        label=_("联系的团干部（可不选）"),
        required=False,
        help_text=_("选了团干部，文件里的青年都会加入他（她）的联系名单。"),
    )

    def __init__(self, *args, user, **kwargs):
        from .selectors import cadre_list, organisation_list

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)  # type: ignore[attr-defined]
        self.fields["cadre"].queryset = cadre_list(user=user)  # type: ignore[attr-defined]

    def clean_file(self):
        from .spreadsheet import MAX_BYTES

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
    cadre = PickerField(kind="cadre", label=_("联系的团干部"), required=False)
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
            self.fields["cadre"].queryset = cadre_list(user=user)

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
        widget=date_input(),
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
        widget=date_input(),
    )


class YouthMergeForm(forms.Form):
    """Which record is the same person: chosen from the likely duplicates shown by name, birth
    year, unit and organisation (never typed as an id)."""

    other = forms.ModelChoiceField(
        label=_("与哪条记录是同一人"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择要合并的记录。"),
            "invalid_choice": _("所选记录不在候选范围内，请重新查找。"),
        },
    )
    confirm = forms.BooleanField(
        label=_("我已核实这两条记录是同一人；合并后另一条记录删除，无法撤销。"),
        error_messages={"required": _("请勾选确认。")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["other"]
        field.queryset = candidates  # type: ignore[attr-defined]
        field.label_from_instance = youth_label  # type: ignore[attr-defined]


class CadreForm(forms.Form):
    """A cadre's record (`cadres.registry.cadre_create` / `cadre_update`); the organisation is
    picked by name among the user's subtree."""

    name = YouthAddForm.base_fields["name"]
    gender = forms.ChoiceField(
        label=_("性别"),
        choices=[("M", _("男")), ("F", _("女"))],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    organisation = PickerField(
        kind="organisation",
        label=_("所在组织"),
        error_messages={"required": _("请选择所在组织。")},
    )
    cadre_type = forms.ChoiceField(
        label=_("类型"), choices=(), widget=forms.Select(attrs={"class": "form-select"})
    )
    position = forms.CharField(label=_("职务"), max_length=50, required=False, widget=_widget())
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        widget=_widget(inputmode="tel", autocomplete="off"),
    )
    wechat_id = forms.CharField(label=_("微信号"), max_length=40, required=False, widget=_widget())
    card_note = forms.CharField(
        label=_("名片说明"), max_length=200, required=False, widget=_widget()
    )
    active_from = forms.DateField(
        label=_("任职开始"),
        error_messages={"invalid": _("日期格式不正确。")},
        widget=date_input(),
    )

    def __init__(self, *args, user, editing: bool = False, **kwargs):
        import datetime

        from .models import CadreType
        from .selectors import organisation_list

        super().__init__(*args, **kwargs)
        self.fields["cadre_type"].choices = CadreType.choices
        self.fields["organisation"].queryset = organisation_list(user=user)  # type: ignore[attr-defined]
        if editing:
            del self.fields["active_from"]  # an office's start is history, ended by a handover
        else:
            self.fields["active_from"].initial = datetime.date.today()


class QuotaRuleForm(forms.Form):
    cadre_type = forms.ChoiceField(choices=(), widget=forms.HiddenInput)
    quota = forms.IntegerField(
        label=_("联系青年数"), min_value=1, widget=_widget(forms.NumberInput, inputmode="numeric")
    )
    min_sectors = forms.IntegerField(
        label=_("最少领域数"), min_value=0, widget=_widget(forms.NumberInput, inputmode="numeric")
    )
    min_channels = forms.IntegerField(
        label=_("最少联系渠道数"),
        min_value=0,
        widget=_widget(forms.NumberInput, inputmode="numeric"),
    )

    def __init__(self, *args, **kwargs):
        from .models import CadreType

        super().__init__(*args, **kwargs)
        self.fields["cadre_type"].choices = CadreType.choices


class SectorForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=50, widget=_widget())
    code = forms.SlugField(
        label=_("代码（英文字母）"),
        max_length=30,
        widget=_widget(),
        error_messages={"invalid": _("代码只能包含英文字母、数字、连字符和下划线。")},
    )
    sort_order = forms.IntegerField(
        label=_("排序"), min_value=0, initial=0, widget=_widget(forms.NumberInput)
    )
    is_active = forms.BooleanField(
        label=_("启用"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
