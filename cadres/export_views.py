"""A large export's page: its progress bar while the job writes the file, then the download.
Only the user who asked sees any of it (`export_job_for_user`); everyone else gets 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .export_jobs import export_job_file, export_job_for_user, export_job_progress
from .models import ExportJob


def _get_job_for_user(request: HttpRequest, pk: int) -> ExportJob:
    job = export_job_for_user(user=request.user, pk=pk)
    if job is None:
        raise Http404
    return job


@login_required
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = _get_job_for_user(request, pk)
    return render(
        request,
        "cadres/export_job.html",
        {"job": job, "ready": export_job_file(job) is not None},
    )


@login_required
def export_job_progress_view(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the export's page while the job runs."""
    return JsonResponse(export_job_progress(job=_get_job_for_user(request, pk)))


@login_required
def export_job_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _get_job_for_user(request, pk)
    path = export_job_file(job)
    if path is None:
        raise Http404
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.download_name)
