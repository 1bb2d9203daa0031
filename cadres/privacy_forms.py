"""Forms of the personal-data pages: the staff's erasure confirmation and the youth's self-join.
(A module of its own beside cadres/forms.py, as cadres/privacy.py is beside cadres/services.py.)"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.forms import HoneypotForm

from .models import Gender, Sector, Youth
from .phones import normalise_phone
from .privacy import CONSENT_WORDING, GUARDIAN_WORDING


class YouthEraseForm(forms.Form):
    """The confirmation step: a reason, and the youth's name typed again."""

    reason = forms.CharField(
        label=_("删除原因"),
        max_length=200,
        help_text=_("例如：本人申请删除；记录有误。原因会记入删除记录，请勿填写个人信息。"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    confirm_name = forms.CharField(
        label=_("请输入该青年的姓名以确认"),
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def __init__(self, *args, youth: Youth, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.youth = youth

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.youth.name.strip():
            raise ValidationError(_("输入的姓名与该青年不一致，未删除。"))
        return value


class JoinForm(HoneypotForm):
    """A youth's own "加入联系" form (no login). `website` is a honeypot, as on the needs form."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "form-control", "inputmode": "tel", "autocomplete": "tel"}
        ),
    )
    sector = forms.ModelChoiceField(
        label=_("领域"),
        queryset=Sector.objects.filter(is_active=True),
        empty_label=_("请选择"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    unit = forms.CharField(
        label=_("单位/学校/村（嘎查）"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    birth_year = forms.IntegerField(
        label=_("出生年份"),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    gender = forms.ChoiceField(
        label=_("性别（可不填）"),
        choices=[("", "—"), *Gender.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    consent = forms.BooleanField(
        label="",
        required=True,
        error_messages={"required": _("请阅读并勾选同意后再提交。")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    guardian_consent = forms.BooleanField(
        label=GUARDIAN_WORDING,
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, cadre, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = CONSENT_WORDING % {
            "cadre": cadre.name,
            "org": cadre.organisation.name,
        }

    def clean_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data["phone"])
        if not phone:
            raise ValidationError(_("请填写手机号。"))
        return phone

    def clean_birth_year(self) -> int:
        year = self.cleaned_data["birth_year"]
        this_year = timezone.localdate().year
        if not 1940 <= year <= this_year:
            raise ValidationError(_("出生年份应在 1940 到 %(year)s 之间。") % {"year": this_year})
        return year

    def clean(self):
        data = super().clean()
        year = data.get("birth_year")
        if year and year >= Youth.minor_birth_year_floor() and not data.get("guardian_consent"):
            self.add_error(
                "guardian_consent", _("未满14周岁的青年需由监护人同意：请监护人勾选此项。")
            )
        return data
