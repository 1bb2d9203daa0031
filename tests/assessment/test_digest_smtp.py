"""The weekly digest through a real SMTP server: aiosmtpd runs as its own process on loopback,
writes what it receives into a Maildir, and the test reads the mails back."""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser

import pytest

from assessment import reminders, services
from cadres.models import User
from tests.assessment.reminders_world import build_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path):
    """(port, maildir): an aiosmtpd process on 127.0.0.1, stopped after the test."""
    maildir = tmp_path / "maildir"
    mailbox.Maildir(maildir, create=True)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"aiosmtpd did not start: {proc.stderr.read().decode()}")
            time.sleep(0.1)
    yield port, maildir
    proc.terminate()
    proc.wait(timeout=10)


def _received(maildir) -> dict[str, object]:
    """The mails the server stored, parsed, by recipient."""
    mails = {}
    box = mailbox.Maildir(maildir, create=False)
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        mails[str(message["To"])] = message
    return mails


def test_digest_through_a_real_smtp_server(tree, smtp_server, settings):
    port, maildir = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.LIANQING_SITE_URL = "https://lianqing.example.org"
    world = build_world(tree)
    for user, email in ((tree.cadre_user, "cadre@example.org"), (tree.owner, "owner@example.org")):
        User.objects.filter(pk=user.pk).update(email=email)
    # The cadre wants every kind but the channels; the township's staff member all of them.
    services.notification_preference_save(
        user=tree.cadre_user, values={"weekly_digest": True, "channels": False}
    )
    services.notification_preference_save(user=tree.owner, values={"weekly_digest": True})
    reminders.reminders_refresh(today=world.today)

    assert reminders.digests_send(today=world.today) == 2
    assert reminders.digests_send(today=world.today) == 0  # once a week, over SMTP too

    mails = _received(maildir)
    assert set(mails) == {"cadre@example.org", "owner@example.org"}
    cadre_mail = mails["cadre@example.org"]
    assert str(cadre_mail["Subject"]).strip().startswith("联青每周提醒：3 件事")
    body = cadre_mail.get_content()
    assert "您好" in body
    # Each kind the cadre keeps on is in, with its link; the one switched off is not.
    assert "【需求临近期限或逾期】" in body and "想了解创业担保贷款怎么申请" in body
    assert "【久未联系的青年】" in body and "沉默青年0" in body and "沉默青年5" not in body
    assert "【明天负责的活动】" in body and "青年就业政策宣讲" in body and "09:30" in body
    assert "尚未建立的联系渠道" not in body and "区域化共建委员会" not in body
    assert f"https://lianqing.example.org/contacts/needs/{world.need_overdue.pk}/" in body
    assert "https://lianqing.example.org/notifications/settings/" in body
    # Nothing about another township, nothing about supervision in the cadre's own mail.
    assert "乙镇的就业咨询" not in body and "督导" not in body
    owner_body = mails["owner@example.org"].get_content()
    assert "【督导回访日期】" in owner_body and tree.cadre.name in owner_body
    assert "希望组织一次技能培训" in owner_body and "村里青年想办篮球赛" in owner_body
    assert "乙镇的就业咨询" not in owner_body
