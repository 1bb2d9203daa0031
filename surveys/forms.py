from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.models import Cadre, Gender
from config.forms import date_input

from .campaigns import MAX_ELECTORATE
from .models import DEFAULT_ASPECTS, Answer, ReelectionProcedure

QUORUM_CHOICES = [
    ("1/2", _("过半数（1/2）")),
    ("3/5", _("五分之三（3/5）")),
    ("2/3", _("三分之二（2/3，默认）")),
    ("3/4", _("四分之三（3/4）")),
    ("4/5", _("五分之四（4/5）")),
]
SHARE_CHOICES = [
    ("2/3", _("3 名监票人，任意 2 人到场即可计票（默认）")),
    ("3/5", _("5 名监票人，任意 3 人到场即可计票")),
    ("2/2", _("2 名监票人，须 2 人都到场")),
]
NOT_SATISFIED_CHOICES = [
    ("1/4", _("超过有效票的 1/4")),
    ("1/3", _("超过有效票的 1/3（默认）")),
    ("1/2", _("超过有效票的 1/2")),
]


def _fraction(value: str) -> tuple[int, int]:
    num, den = value.split("/")
    return int(num), int(den)


def _dt_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local", "class": "form-control"})


class CampaignForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=_("团支部"), queryset=None, widget=forms.Select(attrs={"class": "form-select"})
    )
    secretary = forms.ModelChoiceField(
        label=_("被测评的团支部书记"),
        queryset=None,
        widget=forms.Select(attrs={"class": "form-select"}),
        help_text=_("只列出所选范围内登记为团支部书记的团干部。"),
    )
    year = forms.IntegerField(
        label=_("年度"),
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    electorate = forms.IntegerField(
        label=_("应参评人数（在册团员）"),
        min_value=1,
        max_value=MAX_ELECTORATE,
        required=False,
        help_text=_(
            "团支部已有团员名册时按名册人数自动计算，不必填写；没有名册时按在册团员人数填写。"
            "每名团员发一个投票码。"
        ),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    opens_at = forms.DateTimeField(label=_("开始时间"), widget=_dt_widget())
    closes_at = forms.DateTimeField(label=_("截止时间"), widget=_dt_widget())
    aspects = forms.CharField(
        label=_("分项测评内容（每行一项，可留空）"),
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
    allow_comment = forms.BooleanField(
        label=_("允许填写意见建议"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    quorum = forms.ChoiceField(
        label=_("有效参评比例"),
        choices=QUORUM_CHOICES,
        initial="2/3",
        help_text=_("实际参评人数达到应参评人数的该比例，测评方为有效。"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    not_satisfied = forms.ChoiceField(
        label=_("“不满意”判定规则"),
        choices=NOT_SATISFIED_CHOICES,
        initial="1/3",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    min_ballots_shown = forms.IntegerField(
        label=_("公布分项票数和意见的最少票数"),
        min_value=5,
        max_value=100,
        initial=5,
        help_text=_("票数少于此数时只公布测评结果，保护小支部投票人。"),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    shares = forms.ChoiceField(
        label=_("监票人"),
        choices=SHARE_CHOICES,
        initial="2/3",
        required=False,  # empty: the default, 2 of 3
        help_text=_(
            "启用票箱时为每名监票人生成一张密钥份额票签；结算时须有规定人数的监票人输入份额才能计票。"
        ),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    # Frozen once the ballot box is open (surveys.campaigns.RULE_FIELDS).
    RULE_FIELD_NAMES = (
        "aspects",
        "allow_comment",
        "quorum",
        "not_satisfied",
        "min_ballots_shown",
        "shares",
    )

    def __init__(self, *args, branches, editing: bool = False, sealed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches
        self.fields["secretary"].queryset = (
            Cadre.objects.filter(is_branch_secretary=True, organisation__in=branches)
            .select_related("organisation")
            .order_by("organisation__path", "name")
        )
        self.fields["secretary"].label_from_instance = lambda c: f"{c.name}（{c.organisation}）"
        if editing:
            for name in ("branch", "secretary", "year"):
                self.fields[name].disabled = True
                self.fields[name].required = False
        if sealed:
            # Disabled fields take their initial value whatever is posted.
            for name in self.RULE_FIELD_NAMES:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("票箱已启用，测评规则不能再修改。")
        if not self.is_bound and "aspects" not in self.initial:
            self.initial.setdefault("aspects", "\n".join(DEFAULT_ASPECTS))
            today = timezone.localdate()
            self.initial.setdefault("year", today.year)
            start = timezone.make_aware(
                datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(9))
            )
            self.initial.setdefault("opens_at", start.strftime("%Y-%m-%dT%H:%M"))
            self.initial.setdefault(
                "closes_at", (start + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
            )

    def clean(self):
        data = super().clean()
        branch, secretary = data.get("branch"), data.get("secretary")
        if branch and secretary and secretary.organisation_id != branch.pk:
            self.add_error("secretary", _("所选书记不属于该团支部。"))
        opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.add_error("closes_at", _("截止时间必须晚于开始时间。"))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "electorate": data.get("electorate") or 0,
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "aspects": [line for line in data["aspects"].splitlines() if line.strip()],
            "allow_comment": data["allow_comment"],
            "quorum": _fraction(data["quorum"]),
            "not_satisfied": _fraction(data["not_satisfied"]),
            "min_ballots_shown": data["min_ballots_shown"],
            "shares": _fraction(data.get("shares") or "2/3"),
        }


class CodeEntryForm(forms.Form):
    code = forms.CharField(
        label=_("投票码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg text-uppercase font-monospace",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )


class BallotForm(forms.Form):
    """The ballot: overall satisfaction, one radio group per aspect, an optional comment."""

    code = forms.CharField(widget=forms.HiddenInput)
    campaign = forms.IntegerField(widget=forms.HiddenInput)
    overall = forms.ChoiceField(
        label=_("总体评价"),
        choices=Answer.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择总体评价。")},
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        for index, question in enumerate(campaign.aspects):
            self.fields[f"aspect_{index}"] = forms.ChoiceField(
                label=question,
                choices=Answer.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("请对这一项作出评价。")},
            )
        if campaign.allow_comment:
            self.fields["comment"] = forms.CharField(
                label=_("意见建议（选填，不超过 500 字）"),
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
            )

    def aspect_fields(self):
        return [self[f"aspect_{i}"] for i in range(len(self.campaign.aspects))]

    def answers(self) -> dict:
        data = self.cleaned_data
        return {
            "overall": data["overall"],
            "aspects": [data[f"aspect_{i}"] for i in range(len(self.campaign.aspects))],
            "comment": data.get("comment", ""),
        }


class SettleForm(forms.Form):
    """The settlement screen: one field per scrutineer slip (typed, pasted or scanned)."""

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        for n in range(1, campaign.share_count + 1):
            # 64 symbols in 16 groups of four: a 4-line box shows them whole on a phone (a
            # one-line field scrolled them out of sight); typed, pasted or scanned, with or
            # without dashes, spaces or line breaks (sealing.normalise_symbols drops them).
            self.fields[f"share_{n}"] = forms.CharField(
                label=_("监票人份额码 %(n)s") % {"n": n},
                required=False,
                max_length=400,
                help_text=_("共 64 位（16 组，每组 4 位）；可直接粘贴，横线、空格、换行不影响。"),
                widget=forms.Textarea(
                    attrs={
                        "class": "form-control font-monospace lq-share-input",
                        "rows": 4,
                        "autocomplete": "off",
                        "autocorrect": "off",
                        "autocapitalize": "characters",
                        "spellcheck": "false",
                        "inputmode": "text",
                        "placeholder": "XXXX-XXXX-XXXX-XXXX-…",
                        "data-lq-share": "64",
                    }
                ),
            )

    def shares(self) -> list[str]:
        return [self.cleaned_data.get(name, "") for name in self.fields]


class SharesLostForm(forms.Form):
    lost = forms.IntegerField(
        label=_("已遗失的份额票签数"),
        min_value=0,
        max_value=9,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )


class ReelectionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("改选进度"),
        choices=ReelectionProcedure.Status.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    notes = forms.CharField(
        label=_("工作记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )


def _gender_field() -> forms.ChoiceField:
    """Gender, optional, as the roster and the re-election record it."""
    return forms.ChoiceField(
        label=_("性别"),
        required=False,
        choices=[("", "—"), *Gender.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ReelectionResultForm(forms.Form):
    """The re-election's result: an existing cadre of the branch, or a new one by name."""

    elected_on = forms.DateField(
        label=_("改选日期"),
        widget=date_input(),
    )
    successor = forms.ModelChoiceField(
        label=_("当选书记（已登记的团干部）"),
        queryset=Cadre.objects.none(),
        required=False,
        empty_label=_("—— 新登记一名团干部 ——"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        label=_("新任书记姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    gender = _gender_field()
    phone = forms.CharField(
        label=_("手机号码（选填）"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}),
    )

    def __init__(self, *args, branch, rated=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = (
            Cadre.objects.filter(organisation=branch, active_until__isnull=True)
            .exclude(pk=getattr(rated, "pk", None))
            .order_by("name")
        )

    def clean(self):
        data = super().clean()
        if not data.get("successor") and not (data.get("name") or "").strip():
            self.add_error("name", _("请选择当选的团干部，或填写新任书记的姓名。"))
        return data


def _month_widget():
    return forms.DateInput(attrs={"type": "month", "class": "form-control"}, format="%Y-%m")


class MemberForm(forms.Form):
    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    gender = _gender_field()
    birth_year = forms.IntegerField(
        label=_("出生年份"),
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    joined_on = forms.DateField(
        label=_("入团年月"),
        input_formats=["%Y-%m", "%Y-%m-%d", "%Y/%m", "%Y.%m"],
        help_text=_("例如 2016-05。"),
        widget=_month_widget(),
    )
    phone = forms.CharField(
        label=_("手机号码（选填）"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "tel"}),
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "gender": data["gender"],
            "birth_year": data["birth_year"],
            "joined_on": data["joined_on"],
            "phone": data["phone"],
        }


class MemberEndForm(forms.Form):
    left_on = forms.DateField(
        label=_("离开名册日期"),
        widget=date_input(),
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("团员名单文件（.xlsx 或 .csv）"),
        help_text=_("可直接上传智慧团建导出的团员名单，或按模板填写。"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )
