"""Forms of the contacts app. Validation that is a business rule lives in contacts.services;
forms only parse, bound lengths (with Chinese messages) and keep what the user typed."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.phones import normalise_phone
from config.forms import HoneypotForm, date_input
from config.pickers import PickerField

from .models import NOTES_MAX, TEXT_MAX, Channel, Need

TOO_LONG = _("内容太长：最多 %(limit_value)d 字，当前 %(show_value)d 字。")


def _text(label, limit, rows=2, required=False, placeholder=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        strip=True,
        error_messages={"max_length": TOO_LONG, "required": _("请填写此项。")},
        widget=forms.Textarea(
            attrs={"rows": rows, "class": "form-control", "placeholder": placeholder}
        ),
    )


class _ContactFields(forms.Form):
    channel = forms.ChoiceField(
        label=_("联系方式"),
        choices=Channel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择联系方式。"), "invalid_choice": _("请选择联系方式。")},
    )
    date = forms.DateField(
        label=_("日期"),
        error_messages={"required": _("请填写日期。"), "invalid": _("日期格式不正确。")},
        widget=date_input(),
    )
    topic = forms.CharField(
        label=_("话题"),
        required=False,
        max_length=100,
        error_messages={"max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("例如：就业信息")}),
    )
    notes = _text(_("简要记录"), NOTES_MAX)
    need_raised = _text(_("提出的需求（将进入需求台账）"), TEXT_MAX)
    need_category = forms.ChoiceField(
        label=_("需求类别"),
        choices=Need.Category.choices,
        initial=Need.Category.OTHER,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    help_given = _text(_("帮助解决的实际困难"), TEXT_MAX)
    # The submission's id, made when the form is drawn (or by the phone's offline queue): the
    # same id twice is one contact (a double tap, a resubmit, a replayed sync).
    client_key = forms.CharField(required=False, max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        import uuid

        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date"].initial = today
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        self.fields["client_key"].initial = str(uuid.uuid4())


class QuickLogForm(_ContactFields):
    """One youth + a channel is enough; everything else is optional."""

    youth = forms.IntegerField(
        label=_("青年"),
        error_messages={"required": _("请选择一名青年。"), "invalid": _("青年选择无效。")},
        widget=forms.HiddenInput,
    )
    link = forms.BooleanField(label=_("同时加入我的联系青年名单"), required=False)

    field_order = ["youth", "link", "channel", "date", "topic", "notes"]


def _youths_field(label: str) -> forms.TypedMultipleChoiceField:
    """The youths a contact is with: choices are the cadre's list, set by the form's caller."""
    return forms.TypedMultipleChoiceField(
        label=label,
        coerce=int,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一名青年。"),
            "invalid_choice": _("所选青年不在您的联系名单中。"),
        },
    )


class BatchLogForm(_ContactFields):
    """One visit, meeting or group conversation with several youths."""

    youths = _youths_field(_("参加的青年"))

    def __init__(self, *args, youths, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["youths"].choices = [(y.pk, y.name) for y in youths]


class NeedAnswerForm(forms.Form):
    answer = _text(_("答复内容"), NOTES_MAX, rows=4, required=True)


class NeedAssignForm(forms.Form):
    owner_cadre = PickerField(
        kind="cadre",
        label=_("负责团干部（不填：由本组织工作人员负责）"),
        required=False,
    )
    due_date = forms.DateField(
        label=_("办理期限"),
        required=False,
        error_messages={"invalid": _("日期格式不正确。")},
        widget=date_input(),
    )

    def __init__(self, *args, cadres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_cadre"].queryset = cadres  # type: ignore[attr-defined]


class VenueNeedForm(forms.Form):
    """Staff at the venue write down a need brought in person."""

    category = forms.ChoiceField(
        label=_("类别"),
        choices=Need.Category.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    question = _text(_("需求或问题"), TEXT_MAX, rows=4, required=True)
    asker_name = forms.CharField(
        label=_("称呼（可不填）"),
        required=False,
        max_length=50,
        error_messages={"max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    reply_to = forms.CharField(
        label=_("回复方式：手机号或微信号（可不填）"),
        required=False,
        max_length=60,
        error_messages={"max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class PublicNeedForm(HoneypotForm, VenueNeedForm):
    """The youth's own form (no login). `website` is a honeypot: people never see it, bots fill
    it in."""

    anonymous = forms.BooleanField(
        label=_("匿名提交（不留姓名和联系方式，答复将不能直接送达您）"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("anonymous"):
            data["asker_name"] = data["reply_to"] = ""
        elif not data.get("reply_to"):
            self.add_error("reply_to", _("请留下手机号或微信号以便答复，或勾选“匿名提交”。"))
        return data


class ContactEditForm(_ContactFields):
    """Correct a contact: the same fields as logging it, the youths among the cadre's list and
    those already on it. The need raised is the needs desk's, not corrected here."""

    youths = _youths_field(_("青年"))

    def __init__(self, *args, youths, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["need_raised"], self.fields["need_category"], self.fields["client_key"]
        self.fields["youths"].choices = [(y.pk, y.name) for y in youths]


class MyContactsFilter(forms.Form):
    """Filters of /contacts/mine/: anything unparsable is ignored, never an error page."""

    q = forms.CharField(
        label=_("青年姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )
    channel = forms.ChoiceField(
        label=_("联系方式"),
        required=False,
        choices=[("", _("全部")), *Channel.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    start = forms.DateField(
        label=_("从"),
        required=False,
        widget=date_input(),
    )
    end = forms.DateField(
        label=_("到"),
        required=False,
        widget=date_input(),
    )


class MeetingPhoneForm(forms.Form):
    """The youth's phone, asked once on their own phone (a signed cookie remembers them)."""

    phone = forms.CharField(
        label=_("你的手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "tel",
                "class": "form-control form-control-lg",
            }
        ),
    )

    def clean_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data["phone"])
        if not phone:
            raise forms.ValidationError(_("请填写你的手机号。"))
        return phone


class ShareAnswerForm(forms.Form):
    """Last four digits of the youth's phone and their answer (one of two buttons)."""

    last4 = forms.CharField(
        label=_("你的手机号后四位"),
        max_length=4,
        min_length=4,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "pattern": "[0-9]{4}",
                "class": "form-control form-control-lg lq-digits",
            }
        ),
    )
    answer = forms.ChoiceField(choices=[("yes", "yes"), ("no", "no")], widget=forms.HiddenInput)
