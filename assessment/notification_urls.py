"""The notifications centre at /notifications/ (issue #14's stable interface)."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_centre, name="centre"),
    path("settings/", views.notification_settings, name="settings"),
    path("read-all/", views.notification_read_all, name="read_all"),
    path("<int:pk>/read/", views.notification_read, name="read"),
]
