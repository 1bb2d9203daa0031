from django.urls import path

from . import export_views, privacy_views, registry_views, views

app_name = "cadres"

urlpatterns = [
    path("", views.CadreListView.as_view(), name="list"),
    path("new/", registry_views.cadre_new, name="cadre_new"),
    path("rules/", registry_views.programme_rules, name="rules"),
    path("<int:pk>/", views.cadre_detail, name="detail"),
    path("<int:pk>/edit/", registry_views.cadre_edit, name="cadre_edit"),
    path("<int:pk>/card/", views.cadre_card, name="card"),
    path("<int:pk>/channels/", views.channels, name="channels"),
    path("channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/end/", views.channel_end, name="channel_end"),
    path("<int:pk>/history/", views.cadre_history, name="history"),
    path("<int:pk>/handover/", registry_views.cadre_handover_view, name="handover"),
    path("me/youths/", views.MyYouthsView.as_view(), name="my_youths"),
    path("youths/", views.YouthListView.as_view(), name="youth_list"),
    path("youths/new/", views.youth_new, name="youth_new"),
    path("youths/<int:pk>/", views.youth_detail, name="youth_detail"),
    path("youths/<int:pk>/edit/", registry_views.youth_edit, name="youth_edit"),
    path("youths/<int:pk>/merge/", registry_views.youth_merge, name="youth_merge"),
    path("youths/<int:pk>/move-away/", registry_views.youth_move_away, name="youth_move_away"),
    path("youths/<int:pk>/erase/", privacy_views.youth_erase, name="youth_erase"),
    path("import/", views.roster_import, name="import"),
    path("import/template.csv", views.roster_template, name="import_template"),
    path("import/<int:pk>/", views.roster_import_detail, name="import_detail"),
    path("import/<int:pk>/commit/", views.roster_import_commit, name="import_commit"),
    path("import/<int:pk>/progress/", views.roster_import_progress, name="import_progress"),
    path("exports/", views.export_log_list, name="export_log"),
    path("exports/jobs/<int:pk>/", export_views.export_job, name="export_job"),
    path(
        "exports/jobs/<int:pk>/progress/",
        export_views.export_job_progress_view,
        name="export_job_progress",
    ),
    path(
        "exports/jobs/<int:pk>/download/",
        export_views.export_job_download,
        name="export_job_download",
    ),
    path("organisations/", views.organisation_index, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
]
