"""One searchable picker for every form that picks a youth, a cadre, an organisation or a
partner (issue 15 item 4: names, never ids).

- `KINDS`: per kind, the user's scoped queryset (the scoping selectors: nothing outside scope is
  ever suggested), the search (a name prefix, or a phone for youths) and the label that tells
  namesakes apart ("乌兰 · 1998 · 职教中心 · 甲镇团委").
- `/pickers/<kind>/?q=…` (`picker_search`): up to `LIMIT` suggestions as JSON, for
  `static/lianqing/picker.js`.
- `PickerField` / `MultiPickerField`: form fields whose widget is a plain text input. Without
  JavaScript the user types a name and the server resolves it: one match in the field's
  queryset is accepted; several are shown back, each with its details, to choose from; none is a
  clear Chinese error. With JavaScript, choosing a suggestion fills a hidden `<name>__pk`; the
  server accepts it only when that row is in the field's (scoped) queryset, so a forged id
  outside scope is refused like a wrong name, without saying whether it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.forms.utils import flatatt
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadres.models import Cadre, Organisation, User, Youth
from cadres.phones import normalise_phone

# Suggestions per request: enough to see every namesake in a township, small on a phone.
LIMIT = 10
# Longest search accepted (a name is at most 50 characters).
MAX_QUERY = 50


def _clean_query(q: str) -> str:
    # A NUL reaches PostgreSQL as an error, not a search.
    return (q or "").replace("\x00", "").strip()[:MAX_QUERY]


def _name_search(qs: QuerySet, q: str) -> QuerySet:
    # A prefix: people type the start of a name; LIKE 'q%' is served by the name index.
    return qs.filter(name__startswith=q)


def _youth_search(qs: QuerySet, q: str) -> QuerySet:
    try:
        phone = normalise_phone(q) if any(c.isdigit() for c in q) else ""
    except ValidationError:
        phone = ""
    if phone:
        return qs.filter(Q(phone=phone) | Q(name__startswith=q))
    return _name_search(qs, q)


def youth_label(youth: Youth) -> str:
    """Name · birth year · unit · organisation: what tells two 乌兰 apart, on forms and lists."""
    parts = [youth.name, str(youth.birth_year), youth.unit or "—", youth.organisation.name]
    return " · ".join(parts)


def cadre_label(cadre: Cadre) -> str:
    """Name · type (and position) · organisation: two 托雅 in different organisations."""
    role = cadre.get_cadre_type_display()
    if cadre.position:
        role = f"{role}{cadre.position}"
    return " · ".join([cadre.name, str(role), cadre.organisation.name])


def organisation_label(organisation: Organisation) -> str:
    parent = organisation.parent.name if organisation.parent_id else ""  # type: ignore[union-attr]
    return " · ".join(p for p in (organisation.name, parent) if p)


def partner_label(partner: Any) -> str:
    return f"{partner.name} · {partner.get_kind_display()}"


def _youths(user: User) -> QuerySet:
    from cadres.selectors import youth_scope

    return (
        youth_scope(user=user).select_related("organisation").order_by("name", "birth_year", "pk")
    )


def _cadres(user: User) -> QuerySet:
    from cadres.selectors import cadre_list

    return cadre_list(user=user).order_by("name", "organisation__path", "pk")


def _organisations(user: User) -> QuerySet:
    from cadres.selectors import organisation_list

    return organisation_list(user=user).select_related("parent")


def _partners(user: User) -> QuerySet:
    # Partners (schools, credit unions, companies) are programme-wide and hold no personal
    # data: staff of any level pick from the one list; a cadre without staff rights sees none.
    from activities.models import Partner

    if not user.is_authenticated or not user.sees_subtree:
        return Partner.objects.none()
    return Partner.objects.order_by("name")


@dataclass(frozen=True)
class Kind:
    scoped: Callable[[User], QuerySet]
    search: Callable[[QuerySet, str], QuerySet]
    label: Callable[[Any], str]
    noun: Any  # str or a lazy translation; in messages: "没有找到名为…的青年"


KINDS: dict[str, Kind] = {
    "youth": Kind(_youths, _youth_search, youth_label, gettext_lazy("青年")),
    "cadre": Kind(_cadres, _name_search, cadre_label, gettext_lazy("团干部")),
    "organisation": Kind(_organisations, _name_search, organisation_label, gettext_lazy("组织")),
    "partner": Kind(_partners, _name_search, partner_label, gettext_lazy("合作单位")),
}


def suggestions(*, kind: str, user: User, q: str, queryset: QuerySet | None = None) -> list[dict]:
    """Up to LIMIT rows of the user's scope (or of `queryset`, already scoped) matching `q`."""
    spec = KINDS[kind]
    q = _clean_query(q)
    if not q:
        return []
    qs = queryset if queryset is not None else spec.scoped(user)
    return [
        {"id": row.pk, "name": row.name, "label": spec.label(row)}
        for row in spec.search(qs, q)[:LIMIT]
    ]


@login_required
def picker_search(request: HttpRequest, kind: str) -> JsonResponse:
    """/pickers/<kind>/?q=…: suggestions from the user's scope, as JSON."""
    if kind not in KINDS:
        raise Http404
    user: User = request.user  # type: ignore[assignment]  # login_required
    results = suggestions(kind=kind, user=user, q=request.GET.get("q", ""))
    return JsonResponse({"results": results})


# --- Form fields -------------------------------------------------------------------------------


class PickerInput(forms.Widget):
    """A text input (the name), a hidden `<name>__pk` the script fills when a suggestion is
    chosen, and — after an ambiguous name — the namesakes to choose from, as radio buttons (or
    checkboxes) of the same `<name>__pk`: choosing works without JavaScript too."""

    multiple = False

    def __init__(self, kind: str, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.kind = kind
        self.label: Callable[[Any], str] = KINDS[kind].label
        self.chosen: list[Any] = []  # rows the value stands for (set by the field)
        self.candidates: list[Any] = []  # namesakes of an ambiguous name (set by the field)

    def __deepcopy__(self, memo: dict) -> PickerInput:
        # Each form gets its own lists: a shared one would show one request's rows in another.
        obj = super().__deepcopy__(memo)
        obj.chosen, obj.candidates = [], []
        return obj

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict:
        pks = data.getlist(f"{name}__pk") if hasattr(data, "getlist") else data.get(f"{name}__pk")
        if not isinstance(pks, list):
            pks = [pks] if pks else []
        return {"text": data.get(name, ""), "pks": [p for p in pks if p]}

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}__pk" not in data

    def render(
        self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = self.build_attrs(self.attrs, attrs)
        input_id = attrs.get("id") or f"id_{name}"
        text = value.get("text", "") if isinstance(value, dict) else ""
        chosen = [(row.pk, self.label(row)) for row in self.chosen]
        if not self.multiple and chosen and not text:
            text = chosen[0][1]
        kind = "checkbox" if self.multiple else "radio"
        parts: list[str] = [
            format_html(
                '<div class="lq-picker" data-picker="{}" data-picker-url="{}" '
                'data-picker-multiple="{}" data-picker-none="{}">',
                self.kind,
                reverse("picker", args=[self.kind]),
                "1" if self.multiple else "",
                _("没有找到"),
            )
        ]
        if self.multiple:
            parts.append('<div class="lq-picker-chosen">')
            for pk, label in chosen:
                parts.append(
                    format_html(
                        '<label class="lq-picker-chip"><input type="checkbox" name="{}__pk" '
                        'value="{}" checked> {}</label>',
                        name,
                        pk,
                        label,
                    )
                )
            parts.append("</div>")
        else:
            parts.append(
                format_html(
                    '<input type="hidden" name="{}__pk" value="{}" data-picker-pk>',
                    name,
                    chosen[0][0] if chosen else "",
                )
            )
        extra = {k: v for k, v in attrs.items() if k not in ("id", "class")}
        parts.append(
            format_html(
                '<input type="text" name="{}" id="{}" value="{}" class="{}" autocomplete="off" '
                'role="combobox" aria-autocomplete="list" aria-expanded="false" '
                'aria-controls="{}-list" placeholder="{}" data-picker-text{}>',
                name,
                input_id,
                "" if self.multiple else text,
                attrs.get("class", "form-control"),
                input_id,
                _("输入姓名或名称查找") if self.multiple else _("输入姓名或名称"),
                flatatt(extra),
            )
        )
        parts.append(
            format_html(
                '<ul class="list-group lq-picker-list" id="{}-list" role="listbox" hidden></ul>',
                input_id,
            )
        )
        if self.candidates:
            parts.append('<fieldset class="lq-picker-candidates mt-2" data-picker-candidates>')
            for pk, label in ((r.pk, self.label(r)) for r in self.candidates):
                parts.append(
                    format_html(
                        '<div class="form-check"><label class="form-check-label">'
                        '<input class="form-check-input" type="{}" name="{}__pk" value="{}"> {}'
                        "</label></div>",
                        kind,
                        name,
                        pk,
                        label,
                    )
                )
            parts.append("</fieldset>")
        parts.append("</div>")
        return mark_safe("".join(str(p) for p in parts))  # every part escaped by format_html

    def id_for_label(self, id_: str) -> str:
        return id_


class MultiPickerInput(PickerInput):
    multiple = True


class PickerField(forms.Field):
    """Pick one row of `queryset` (already scoped to the user) by name. Cleans to the row."""

    widget = PickerInput

    def __init__(self, *, kind: str, queryset: QuerySet | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("widget", self.widget(kind))
        super().__init__(**kwargs)
        self.kind = kind
        # Set by the form's __init__ when it depends on the user (it usually does).
        self.queryset: QuerySet = queryset if queryset is not None else Youth.objects.none()

    def __deepcopy__(self, memo: dict) -> PickerField:
        result = super().__deepcopy__(memo)  # type: ignore[misc]
        result.queryset = self.queryset.all()  # as ModelChoiceField: no shared result cache
        return result

    def prepare_value(self, value: Any) -> Any:
        # An initial value (a row or its pk) shows as its label.
        rows = self._rows_for_initial(value)
        if rows is not None:
            self.widget.chosen = rows
            return {"text": "", "pks": [r.pk for r in rows]}
        return value

    def _rows_for_initial(self, value: Any) -> list[Any] | None:
        if isinstance(value, dict) or value in (None, "", []):
            return None
        values = value if isinstance(value, (list, tuple, QuerySet)) else [value]
        pks = [v.pk if isinstance(v, Model) else v for v in values]
        return list(
            self.queryset.filter(pk__in=[p for p in pks if str(p).isdigit() and len(str(p)) <= 18])
        )

    def _resolve_pks(self, pks: Iterable[str]) -> list[Any]:
        # Digits that fit a database integer; anything else is a wrong choice like any other.
        wanted = {int(p) for p in pks if str(p).isdigit() and len(str(p)) <= 18}
        if len(wanted) != len(list(pks)):
            raise ValidationError(self._not_found(""), code="invalid_choice")
        rows = list(self.queryset.filter(pk__in=wanted))
        if len(rows) != len(wanted):
            # Outside scope or no such row: one message, which does not say which.
            raise ValidationError(
                _("所选%(noun)s不在你的范围内，请重新选择。") % {"noun": KINDS[self.kind].noun},
                code="invalid_choice",
            )
        return rows

    def _resolve_text(self, text: str) -> Any:
        """A typed name (or a suggestion's whole label): the one row with exactly that name or
        label is accepted; namesakes, or rows that only start with it, are offered to choose
        from; nothing is a clear error."""
        spec = KINDS[self.kind]
        name = text.split(" · ")[0].strip()
        named = list(self.queryset.filter(name=name)[: LIMIT + 1])
        labelled = [row for row in named if spec.label(row) == text]
        if labelled:
            named = labelled
        if len(named) == 1:
            return named[0]
        offered = named or list(spec.search(self.queryset, name)[: LIMIT + 1])
        if not offered:
            raise ValidationError(self._not_found(text), code="invalid_choice")
        self.widget.candidates = offered[:LIMIT]
        if len(offered) > LIMIT:
            message = _("“%(text)s”的结果太多，请多输入几个字，或从下面选择。") % {"text": text}
        elif named:
            message = _("有 %(n)s 个“%(text)s”，请从下面选择一个。") % {
                "n": len(named),
                "text": text,
            }
        else:
            message = _("没有名为“%(text)s”的%(noun)s，是下面的哪一个？") % {
                "text": text,
                "noun": spec.noun,
            }
        raise ValidationError(message, code="ambiguous")

    def _not_found(self, text: str) -> str:
        return _("在你的范围内没有找到名为“%(text)s”的%(noun)s，请检查姓名或名称。") % {
            "text": text,
            "noun": KINDS[self.kind].noun,
        }

    def clean(self, value: Any) -> Any:
        value = value if isinstance(value, dict) else {"text": "", "pks": []}
        text, pks = _clean_query(value.get("text", "")), value.get("pks", [])
        if pks:
            rows = self._resolve_pks(pks[:1])
            self.widget.chosen = rows
            return rows[0]
        if not text:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        row = self._resolve_text(text)
        self.widget.chosen = [row]
        return row

    def has_changed(self, initial: Any, data: Any) -> bool:
        return True


class MultiPickerField(PickerField):
    """Pick several rows by name (responsible cadres, partners, the youths of a visit): the
    chosen ones are checkboxes, a text input adds one more. Cleans to a queryset."""

    widget = MultiPickerInput

    def clean(self, value: Any) -> Any:
        value = value if isinstance(value, dict) else {"text": "", "pks": []}
        text, pks = _clean_query(value.get("text", "")), value.get("pks", [])
        rows = self._resolve_pks(pks) if pks else []
        self.widget.chosen = rows
        if text:
            row = self._resolve_text(text)
            if row.pk not in {r.pk for r in rows}:
                rows.append(row)
            self.widget.chosen = rows
        if not rows and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return self.queryset.filter(pk__in=[r.pk for r in rows])
