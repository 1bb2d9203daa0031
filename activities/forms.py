"""Forms of the activities app. Choices (organisations, cadres, youths) come from scoped selectors."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.models import Cadre, Sector, User
from cadres.selectors import in_subtree, organisation_list, scope_queryset
from config.pickers import MultiPickerField, PickerField

from .models import (
    Activity,
    Commendation,
    EntrepreneurshipProject,
    Partner,
    PlanItem,
    ProjectSupport,
    VolunteerHours,
    VolunteerOrganisation,
    WorkPlan,
)
from .plans import plan_item_link_check, plan_item_scope
from .selectors import activity_list, youth_scope

MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class BootstrapMixin:
    """Bootstrap classes on every widget, so templates can render fields in a loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActivityForm(BootstrapMixin, forms.ModelForm):
    partner_names = forms.CharField(
        label=_("合作单位"),
        required=False,
        help_text=_("多个单位用顿号或逗号分隔，例如：阿旗农村信用联社、阿旗职教中心"),
    )

    class Meta:
        model = Activity
        fields = [
            "title",
            "category",
            "organisation",
            "starts_at",
            "ends_at",
            "place",
            "capacity",
            "status",
            "responsible_cadres",
            "plan_item",
            "description",
            "outcome",
        ]
        widgets = {
            "starts_at": DATETIME_WIDGET,
            "ends_at": DATETIME_WIDGET,
            "description": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)
        # Picked by name, namesakes told apart (config/pickers.py), not a Ctrl-click list.
        self.fields["responsible_cadres"] = MultiPickerField(
            kind="cadre",
            label=_("负责团干部"),
            required=False,
            queryset=scope_queryset(
                Cadre.objects.select_related("organisation"), user=user, cadre_field="pk"
            ),
        )
        # Items of the plans the user sees; the service refuses another organisation's item.
        plan_item = self.fields["plan_item"]
        plan_item.queryset = plan_item_scope(user).order_by(
            "-plan__year", "plan__organisation__path", "quarter", "id"
        )
        plan_item.label_from_instance = lambda i: (
            f"{i.plan.year} {i.plan.organisation.name} · Q{i.quarter} · {i.goal}"
        )
        plan_item.error_messages["invalid_choice"] = _("所选计划事项不在您的权限范围内。")
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        if self.instance.pk:
            self.initial["partner_names"] = "、".join(
                self.instance.partners.values_list("name", flat=True)
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end < start:
            self.add_error("ends_at", _("结束时间不能早于开始时间。"))
        item, org = data.get("plan_item"), data.get("organisation")
        if item is not None and org is not None and start is not None:
            try:
                plan_item_link_check(item=item, organisation_id=org.pk, starts_at=start)
            except ValidationError as exc:
                self.add_error(None, exc) if not hasattr(exc, "error_dict") else self.add_error(
                    "plan_item", exc.message_dict["plan_item"]
                )
        return data

    def partner_list(self) -> list[str]:
        raw = self.cleaned_data.get("partner_names", "")
        for sep in "，,;；\n":
            raw = raw.replace(sep, "、")
        return [p.strip() for p in raw.split("、") if p.strip()]


class NeedsActivityForm(ActivityForm):
    invite = forms.BooleanField(
        label=_("邀请提出需求的青年（已在青年名册中的直接报名）"), required=False, initial=True
    )


class YouthPickForm(forms.Form):
    youths = forms.ModelMultipleChoiceField(
        queryset=None, label=_("选择青年"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["youths"].queryset = youth_scope(user)
        self.fields["youths"].error_messages["invalid_choice"] = _("所选青年不在您的权限范围内。")


class PublicRegistrationForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class CheckinCodeForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label=_("签到码"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


class CheckinForm(BootstrapMixin, forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(label=_("姓名（未报名时填写）"), max_length=50, required=False)


class HoursForm(forms.Form):
    hours = forms.CharField(label=_("时长（小时）"), required=False, max_length=6)


class ConfirmForm(BootstrapMixin, forms.Form):
    birth_year = forms.IntegerField(label=_("出生年份"), min_value=1950)
    gender = forms.ChoiceField(
        label=_("性别"), choices=[("", "—"), ("M", _("男")), ("F", _("女"))], required=False
    )
    sector = forms.ModelChoiceField(label=_("领域"), queryset=Sector.objects.filter(is_active=True))
    unit = forms.CharField(label=_("单位/学校/村（嘎查）"), required=False, max_length=100)

    def clean_birth_year(self):
        year = self.cleaned_data["birth_year"]
        if year > timezone.localdate().year:
            raise ValidationError(_("出生年份不能晚于今年。"))
        return year


class PhotoForm(BootstrapMixin, forms.Form):
    image = forms.FileField(label=_("活动照片（JPG/PNG，不超过 5 MB）"))
    caption = forms.CharField(label=_("说明"), max_length=100, required=False)

    def clean_image(self):
        """Size first (cheap), then let Pillow decode the header: the extension proves nothing."""
        from PIL import Image, UnidentifiedImageError

        upload = self.cleaned_data["image"]
        if upload.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("照片不能超过 5 MB，请压缩后再上传。"))
        try:
            with Image.open(upload) as img:
                fmt = img.format
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(_("上传的文件不是有效的图片，请选择 JPG 或 PNG 照片。")) from None
        if fmt not in PHOTO_FORMATS:
            raise ValidationError(_("只支持 JPG、PNG、WEBP、GIF 格式的照片。"))
        upload.seek(0)
        return upload


class VolunteerHoursForm(BootstrapMixin, forms.ModelForm):
    hours = forms.DecimalField(label=_("时长（小时）"), max_digits=4, decimal_places=1)

    class Meta:
        model = VolunteerHours
        fields = ["youth", "volunteer_organisation", "organisation", "date", "hours", "description"]
        widgets = {"date": DATE_WIDGET}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)
        self.fields["volunteer_organisation"].queryset = scope_queryset(
            VolunteerOrganisation.objects.all(), user=user
        )
        self.fields["youth"] = PickerField(
            kind="youth", label=_("青年"), required=True, queryset=youth_scope(user)
        )

    def clean_hours(self):
        hours = self.cleaned_data["hours"]
        if hours <= 0:
            raise ValidationError(_("时长必须大于 0。"))
        if hours > 24:
            raise ValidationError(_("一天的服务时长不能超过 24 小时。"))
        return hours


class VolunteerOrganisationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = VolunteerOrganisation
        fields = ["name", "organisation", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)


class CommendationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Commendation
        fields = ["title", "youth", "team_name", "activity", "organisation", "date", "citation"]
        widgets = {"date": DATE_WIDGET, "citation": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["youth"] = PickerField(
            kind="youth",
            label=_("受表彰的青年（表彰个人时填写）"),
            required=False,
            queryset=youth_scope(user),
        )
        self.fields["activity"].queryset = activity_list(user=user)
        self.fields["organisation"].queryset = organisation_list(user=user)
        self.fields["title"].widget.attrs["list"] = "honour-titles"

    def clean(self):
        data = super().clean()
        if not data.get("youth") and not (data.get("team_name") or "").strip():
            raise ValidationError(_("请选择受表彰的青年，或填写受表彰的集体名称。"))
        return data


class ProjectForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = EntrepreneurshipProject
        fields = ["name", "youth", "organisation", "field", "stage", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["youth"] = PickerField(
            kind="youth", label=_("创业青年"), required=True, queryset=youth_scope(user)
        )
        self.fields["organisation"].queryset = organisation_list(user=user)


class SupportForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = ProjectSupport
        fields = ["kind", "date", "description", "partner", "loan_amount", "loan_status", "mentor"]
        widgets = {"date": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"] = PickerField(
            kind="partner", label=_("合作单位"), required=False, queryset=Partner.objects.all()
        )


class LateAttendanceForm(BootstrapMixin, forms.Form):
    """Attendance after the event: who came (registered, or found in the registry), which day,
    how long. The rule (window, future day, hours) is the service's: late_attendance_check."""

    date = forms.DateField(label=_("出勤日期"), widget=DATE_WIDGET)
    hours = forms.DecimalField(label=_("时长（小时）"), max_digits=4, decimal_places=1, min_value=0)
    registrations = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("已报名未签到"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    youths = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("未报名的青年"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("整队出勤"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, activity: Activity, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].input_formats = ["%Y-%m-%d"]
        self.fields["teams"].queryset = activity.teams.all()
        self.fields["registrations"].queryset = activity.registrations.filter(
            checked_in_at__isnull=True
        )
        self.fields["youths"].queryset = youth_scope(user)
        for name in ("registrations", "youths", "teams"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "所选人员不在名单中或不在您的权限范围内，请刷新页面后重试。"
            )
        start = timezone.localtime(activity.starts_at)
        self.initial.setdefault("date", start.date())
        self.initial.setdefault("hours", round(activity.duration_hours, 1))

    def clean(self):
        data = super().clean()
        chosen = ("registrations", "youths", "teams")
        if not any(data.get(name) for name in chosen) and not self.errors:
            raise ValidationError(_("请至少选择一名出勤的青年。"))
        return data


# --- annual work plans --------------------------------------------------------------------------


def _year_choices() -> list[tuple[int, int]]:
    this = timezone.localdate().year
    return [(y, y) for y in range(this + 1, this - 4, -1)]


class PlanScopeForm(BootstrapMixin, forms.Form):
    """The plans page's choice of organisation (the user's subtree) and year (GET)."""

    organisation = forms.ModelChoiceField(queryset=None, label=_("组织"), required=False)
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, required=False, choices=())

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)
        self.fields["organisation"].empty_label = None
        self.fields["year"].choices = _year_choices()


class PlanCreateForm(BootstrapMixin, forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, label=_("组织"))
    year = forms.TypedChoiceField(label=_("年度"), coerce=int, choices=())
    summary = forms.CharField(
        label=_("总体目标"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisation_list(user=user)
        self.fields["organisation"].error_messages["invalid_choice"] = _(
            "所选组织不在您的权限范围内。"
        )
        self.fields["year"].choices = _year_choices()


class PlanSummaryForm(BootstrapMixin, forms.Form):
    summary = forms.CharField(
        label=_("总体目标"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PlanDeadlineForm(BootstrapMixin, forms.Form):
    due_on = forms.DateField(label=_("计划提交截止日期"), widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].input_formats = ["%Y-%m-%d"]


class PlanItemForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = PlanItem
        fields = [
            "goal",
            "category",
            "quarter",
            "measure",
            "target",
            "unit",
            "achieved",
            "responsible_cadres",
        ]
        help_texts = {
            "unit": _("例如：次线下活动、名青年、%"),
            "achieved": _("仅“手工填报”时填写；其他方式由系统统计。"),
        }

    def __init__(self, *args, plan: WorkPlan, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Cadres the user sees, of the plan's organisation and below (the service checks too).
        cadres = scope_queryset(
            Cadre.objects.select_related("organisation"), user=user, cadre_field="pk"
        )
        field = self.fields["responsible_cadres"]
        field.queryset = in_subtree(cadres, organisation=plan.organisation).order_by("name", "id")
        field.required = False
        field.widget.attrs["size"] = 6
        field.label_from_instance = lambda c: f"{c.name} · {c.organisation.name}"
        field.error_messages["invalid_choice"] = _("所选团干部不在本组织或您的权限范围内。")
        self.fields["achieved"].required = False

    def clean_achieved(self):
        return self.cleaned_data.get("achieved") or 0


# --- teams at an activity -----------------------------------------------------------------------


class TeamForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("队伍名称"), max_length=100)


class TeamMembersForm(forms.Form):
    registrations = forms.ModelMultipleChoiceField(
        queryset=None, label=_("选择队员"), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, activity: Activity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registrations"].queryset = activity.registrations.all()
        self.fields["registrations"].error_messages["invalid_choice"] = _(
            "所选人员不在本活动的报名名单中，请刷新页面后重试。"
        )


class TeamCommendForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=_("荣誉名称"), max_length=50)
    date = forms.DateField(label=_("表彰日期"), widget=DATE_WIDGET)
    citation = forms.CharField(
        label=_("事迹"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].input_formats = ["%Y-%m-%d"]
        self.initial.setdefault("date", timezone.localdate())
