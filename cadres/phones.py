"""Phone numbers as the registry stores them: pure functions, shared by the services and the
roster reader (a module of its own so that `cadres.roster` needs nothing from `cadres.services`:
no import cycle)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－　（）", "0123456789+- ()")


def normalise_phone(raw: str) -> str:
    """A mainland mobile number as 11 digits, from what people actually type or paste.

    Accepts full-width digits, spaces, dashes, brackets and a +86 / 0086 / 86 prefix; returns ""
    for an empty value and raises ValidationError (Chinese message) for anything else.
    """
    text = (raw or "").translate(_FULL_WIDTH).strip()
    if not text:
        return ""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+86") or (digits.startswith("0086") and len(digits) == 15):
        digits = digits[2:] if text.startswith("+86") else digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1") or digits[1] not in "3456789":
        raise ValidationError(_("手机号格式不正确：应为 11 位手机号码，例如 13812345678。"))
    return digits


def normalise_phone_field(raw: str, field: str = "phone") -> str:
    """`normalise_phone` for a service's keyword: the refusal names the form field, so that it
    shows next to the phone the user typed."""
    try:
        return normalise_phone(raw)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
