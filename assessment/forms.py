from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.filters import SubtreeChoiceField, organisation_window
from cadres.selectors import organisation_list

from .models import CaseStep, IntegrityReview, NotificationPreference, ScoringPolicy
from .periods import parse_period, recent_quarters
from .services import POLICY_FIELDS, policy_validate


class ScopeForm(forms.Form):
    """Organisation subtree (in the user's scope) and period, for dashboards and bulletins."""

    organisation = SubtreeChoiceField(
        label=_("组织"), queryset=None, required=False, empty_label=None
    )
    period = forms.CharField(label=_("时段"), max_length=7, required=False)

    def __init__(self, *args, user, kinds=("quarter", "half", "year"), **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        field = self.fields["organisation"]
        field.queryset = organisation_list(user=user)
        selected = self.data.get("organisation") if self.is_bound else None
        field.base_depth, field.visible_queryset = organisation_window(
            field.queryset, user=user, selected=selected or user.organisation_id
        )
        self.fields["organisation"].widget.attrs["class"] = "form-select"
        self.fields["period"].widget.attrs.update(
            {"class": "form-control", "placeholder": "2026Q3", "list": "lq-periods"}
        )

    def period_choices(self) -> list[str]:
        """Suggestions for the period field: recent quarters, half years and years."""
        today = timezone.localdate()
        codes = []
        if "quarter" in self.kinds:
            codes += [p.code for p in recent_quarters(today, 6)]
        if "half" in self.kinds:
            codes += [f"{y}H{h}" for y in (today.year, today.year - 1) for h in (2, 1)]
        if "year" in self.kinds:
            codes += [str(today.year), str(today.year - 1)]
        return codes

    def clean_period(self):
        text = self.cleaned_data.get("period") or ""
        if not text:
            return None
        period = parse_period(text)
        if period.kind not in self.kinds:
            raise ValidationError(_("这里请选季度（如 2026Q3）。"))
        return period


class PolicyForm(forms.ModelForm):
    class Meta:
        model = ScoringPolicy
        fields = [*POLICY_FIELDS, "note"]
        widgets = {"note": forms.TextInput(attrs={"placeholder": _("为什么调整")})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
            if isinstance(field, forms.IntegerField):
                # Negative numbers reach the service's Chinese message instead of the browser's.
                field.min_value = None
                field.validators = []
                field.widget.attrs.pop("min", None)

    def clean(self):
        data = super().clean()
        if not self.errors:
            policy_validate({name: data.get(name) for name in POLICY_FIELDS})
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in POLICY_FIELDS}


class CaseStepForm(forms.Form):
    kind = forms.TypedChoiceField(label=_("措施"), choices=CaseStep.Kind.choices, coerce=int)
    date = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    conducted_by = forms.CharField(label=_("实施人"), max_length=100)
    notes = forms.CharField(label=_("情况记录"), widget=forms.Textarea(attrs={"rows": 3}))
    agreed_actions = forms.CharField(label=_("整改措施"), widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_on = forms.DateField(
        label=_("回访日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def __init__(self, *args, next_kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        if next_kind:
            self.fields["kind"].initial = next_kind
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)


class CaseCloseForm(forms.Form):
    recovered = forms.BooleanField(
        label=_("已整改到位（活跃度恢复）"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    note = forms.CharField(label=_("结案说明"), widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    notes = forms.CharField(
        label=_("评估意见"), widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"})
    )


class IntegrityReviewForm(forms.Form):
    """A supervisor's verification of a cadre's padding findings."""

    outcome = forms.ChoiceField(
        label=_("核实结果"), choices=IntegrityReview.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("核实说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("例如：电话回访了哪些青年、他们怎么说；“待核实”可以不写。"),
    )
    open_case = forms.BooleanField(label=_("属实：同时立案督导"), required=False)


class NotificationPreferenceForm(forms.ModelForm):
    """Which reminders the user wants, and whether to get them by e-mail once a week."""

    class Meta:
        model = NotificationPreference
        fields = ["need_due", "follow_up", "dormant", "activity", "channels", "weekly_digest"]

    # Kinds that only concern a cadre's own 100, and the one only supervisors receive.
    CADRE_KINDS = ("dormant", "activity", "channels")
    STAFF_KINDS = ("follow_up",)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from cadres.selectors import user_cadre

        hidden = () if user.sees_subtree else self.STAFF_KINDS
        if user_cadre(user) is None:
            hidden += self.CADRE_KINDS
        for name in hidden:
            del self.fields[name]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-check-input"
