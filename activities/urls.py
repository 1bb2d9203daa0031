from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("", views.ActivityListView.as_view(), name="list"),
    path("new/", views.activity_create, name="create"),
    path("new/from-needs/", views.activity_from_needs, name="from_needs"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/checkin/", views.checkin_list, name="checkin_list"),
    path("<int:pk>/attendance/", views.late_attendance, name="late_attendance"),
    path("<int:pk>/teams/", views.team_list, name="teams"),
    path("<int:pk>/teams/<int:tid>/", views.team_detail, name="team_detail"),
    path("<int:pk>/teams/<int:tid>/checkin/", views.team_checkin, name="team_checkin"),
    path("<int:pk>/teams/<int:tid>/commend/", views.team_commend, name="team_commend"),
    path(
        "<int:pk>/teams/<int:tid>/members/<int:rid>/remove/",
        views.team_member_remove,
        name="team_member_remove",
    ),
    path("<int:pk>/photos/", views.photo_upload, name="photo_upload"),
    # One POST view per check-in list action, on the registration's row.
    path(
        "<int:pk>/registrations/<int:rid>/checkin/",
        views.registration_checkin,
        name="registration_checkin",
    ),
    path(
        "<int:pk>/registrations/<int:rid>/undo/",
        views.registration_undo,
        name="registration_undo",
    ),
    path(
        "<int:pk>/registrations/<int:rid>/hours/",
        views.registration_hours,
        name="registration_hours",
    ),
    path(
        "<int:pk>/registrations/<int:rid>/remove/",
        views.registration_remove,
        name="registration_remove",
    ),
    path(
        "<int:pk>/registrations/<int:rid>/confirm/",
        views.registration_confirm,
        name="registration_confirm",
    ),
    # Public pages, no login: the sign-up link and the venue check-in code (QR or typed).
    path("r/<str:code>/", views.public_register, name="public_register"),
    path("checkin/", views.checkin_enter, name="checkin_enter"),
    path("c/<str:code>/", views.public_checkin, name="public_checkin"),
    # Annual work plans (issue 15 item 1).
    path("plans/", views.plan_index, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/deadline/<int:org_id>/<int:year>/", views.plan_deadline, name="plan_deadline"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/summary/", views.plan_summary, name="plan_summary"),
    path("plans/<int:pk>/history/", views.plan_history, name="plan_history"),
    path("plans/items/<int:pk>/edit/", views.plan_item_edit, name="plan_item_edit"),
    path("plans/items/<int:pk>/delete/", views.plan_item_delete, name="plan_item_delete"),
    path("volunteers/", views.volunteer_index, name="volunteers"),
    path("volunteers/hours/", views.volunteer_hours, name="volunteer_hours"),
    path(
        "volunteers/hours/<int:pk>/decide/",
        views.volunteer_hours_decide,
        name="volunteer_hours_decide",
    ),
    path("volunteers/youth/<int:youth_id>/", views.youth_record, name="youth_record"),
    path(
        "volunteers/youth/<int:youth_id>/certificate/",
        views.youth_certificate,
        name="youth_certificate",
    ),
    path("commendations/", views.commendation_index, name="commendations"),
    path("projects/", views.ProjectListView.as_view(), name="projects"),
    path("projects/new/", views.project_edit, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
]
