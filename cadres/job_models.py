"""Records of exports and background jobs: the PIPL log of every export, the exports too large for
a request (written by a job), uploaded rosters between preview and commit, and the Celery jobs
that wait for the broker. Imported by cadres/models.py so that Django registers them under the
`cadres` app (same tables, no migration).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExportLog(models.Model):
    """Every export of a list: who, when, which list, with which filter, how many rows (PIPL)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("导出时间"), auto_now_add=True)
    list_name = models.CharField(_("列表"), max_length=50)
    export_format = models.CharField(_("格式"), max_length=8)
    querystring = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    row_count = models.PositiveIntegerField(_("行数"))
    included_minors = models.BooleanField(_("含未成年人"), default=False)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.list_name} {self.created_at:%Y-%m-%d %H:%M} ({self.row_count})"


class ExportJob(models.Model):
    """An export too large for the request, written to a file by a job (cadres/export_jobs.py),
    offered to the user who asked only, until `expires_at` (then purged by a beat task)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("正在导出")
        DONE = "done", _("已完成")
        FAILED = "failed", _("导出失败")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # The list page as the user asked for it: the worker replays it with the user's scope.
    path = models.CharField(_("页面"), max_length=200)
    querystring = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    list_name = models.CharField(_("列表"), max_length=50)
    export_format = models.CharField(_("格式"), max_length=8)
    language = models.CharField(_("语言"), max_length=16, default="zh-hans")
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices)
    done = models.PositiveIntegerField(_("已写入行数"), default=0)
    total = models.PositiveIntegerField(_("预计行数"), default=0)
    file_name = models.CharField(_("文件"), max_length=200, blank=True)
    download_name = models.CharField(_("下载文件名"), max_length=200)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("保留至"))
    failure = models.CharField(_("失败原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        # The hourly purge: jobs whose file has expired (expires_at < now).
        indexes = [models.Index(fields=["expires_at"], name="exportjob_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.list_name}.{self.export_format} ({self.status})"


class RosterImport(models.Model):
    """An uploaded roster between preview and commit: the validated rows wait here as JSON.

    Import is all-or-nothing: a file with any bad row is stored with its report and can never be
    committed; a clean file is committed once (status moves preview → done).
    """

    class Status(models.TextChoices):
        # Uploaded; the row-by-row check runs as a background job (cadres/jobs.py), then
        # INVALID with its report, or PREVIEW.
        CHECKING = "check", _("正在检查")
        INVALID = "invalid", _("有错误，未导入")
        PREVIEW = "preview", _("待确认")
        # Confirmed; the commit runs as a background job (cadres/jobs.py), then DONE, or back to
        # PREVIEW with `failure` when the registry changed since the check.
        COMMITTING = "commit", _("正在导入")
        DONE = "done", _("已导入")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    filename = models.CharField(_("文件名"), max_length=200)
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("青年所属组织"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    cadre = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("联系的团干部"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices)
    rows = models.JSONField(_("数据行"), default=list)
    # The uploaded file (≤ 10 MB) while its check waits for a worker; emptied by the check. In
    # the database rather than on disk: a worker on another machine reads it without a share.
    upload = models.BinaryField(_("上传文件"), default=b"", editable=False)
    errors = models.JSONField(_("错误"), default=list)
    n_new = models.PositiveIntegerField(_("新增青年"), default=0)
    n_matched = models.PositiveIntegerField(_("匹配已有青年"), default=0)
    n_linked = models.PositiveIntegerField(_("新增联系关系"), default=0)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    failure = models.CharField(_("导入失败原因"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("花名册导入")
        verbose_name_plural = _("花名册导入")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename


class TaskOutbox(models.Model):
    """A Celery job that could not be sent because the broker was unreachable (cadres/outbox.py).

    The action that wanted it is already committed; the job is sent when the broker is back
    (the beat task `cadres.flush_outbox`, or the next successful enqueue). Arguments are ids
    and period codes only, never personal data or anything that could identify a vote.
    """

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("发送尝试"), default=0)
    last_error = models.CharField(_("最后错误"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("待发送任务")
        verbose_name_plural = _("待发送任务")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task} {self.created_at:%Y-%m-%d %H:%M}"
