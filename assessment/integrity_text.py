"""What the integrity signals say to a supervisor: each signal's label and one Chinese
sentence with its raw numbers (assessment/integrity.py detects; this module only words).
Re-exported by `assessment.integrity` as LABELS and describe."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LABELS = {
    "burst": gettext_lazy("短时间内集中录入"),
    "same_text": gettext_lazy("大量记录内容雷同"),
    "end_dump": gettext_lazy("期末集中补录"),
    "backdated": gettext_lazy("事后很久才录入"),
    "ghost_youths": gettext_lazy("青年无任何回应且手机号可疑"),
    "batch_log": gettext_lazy("一次见面人数不合常理"),
    "quota_jump": gettext_lazy("期限前恰好凑满指标"),
    "denials": gettext_lazy("青年否认联系"),
    "same_device": gettext_lazy("用团干部本人的手机确认"),
}


def describe(signal: dict) -> str:
    """One Chinese sentence with the raw numbers of a stored signal (for the integrity page)."""
    d = signal.get("detail", {})
    code = signal.get("code")
    try:
        if code == "burst":
            return _("至少 %(entries)s 条记录是连续快速录入的，平均每条不到 1 分钟。") % d
        if code == "same_text":
            return (
                _("%(same)s 条记录的内容相同或几乎相同（共 %(with_text)s 条写了内容的记录）。") % d
            )
        if code == "end_dump":
            return (
                _(
                    "%(late)s 条（共 %(total)s 条）记录在期末最后 %(last_days)s 天内补录，日期却早得多。"
                )
                % d
            )
        if code == "backdated":
            return _("%(late)s 条（共 %(total)s 条）记录在联系日期 %(days)s 天以后才录入。") % d
        if code == "ghost_youths":
            return (
                _(
                    "%(youths)s 名（本期联系 %(reached)s 名）青年从未签到、提问或确认，且手机号缺失 %(missing)s、无效 %(invalid)s、多人共用 %(shared)s、连号 %(sequential)s。"
                )
                % d
            )
        if code == "batch_log":
            return _("%(logs)s 条手工录入的线下联系人数过多，最多一次 %(largest)s 名青年。") % d
        if code == "quota_jump":
            return (
                _(
                    "本期联系 %(reached)s 名青年（指标 %(quota)s 名），其中 %(late)s 名是最后 %(last_days)s 天才首次联系的。"
                )
                % d
            )
        if code == "denials":
            return _("%(denials)s 名青年表示“没有这回事”。") % d
        if code == "same_device":
            return _("%(confirmations)s 次确认来自团干部本人登录的设备。") % d
    except (KeyError, TypeError, ValueError):
        pass
    return str(LABELS.get(code or "", code))
