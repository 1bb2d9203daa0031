from django.urls import path

from . import confirm_views, need_status_views, need_views, views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="list"),
    path("new/", views.quick_log, name="quick_log"),
    path("batch/", views.batch_log, name="batch_log"),
    path("youth-search/", views.youth_search, name="youth_search"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("mine/", views.my_contacts, name="mine"),
    path("dormant/", views.dormant, name="dormant"),
    path("youths/<int:pk>/", views.youth_timeline, name="youth_timeline"),
    path("needs/", views.NeedListView.as_view(), name="need_list"),
    path("needs/new/", need_views.need_new, name="need_new"),
    path("needs/groups/", need_views.need_groups, name="need_groups"),
    path("needs/<int:pk>/", need_views.need_detail, name="need_detail"),
    path("needs/<int:pk>/answer/", need_views.need_answer, name="need_answer"),
    path("needs/<int:pk>/assign/", need_views.need_assign, name="need_assign"),
    path("needs/<int:pk>/close/", need_views.need_close, name="need_close"),
    # Public (no login): the venue's QR code and the cadre's contact-card QR code.
    path("ask/", views.ask, name="ask"),
    path("ask/thanks/", views.ask_done, name="ask_done"),
    path("ask/status/<str:token>/", need_status_views.need_status, name="need_status"),
    path(
        "ask/status/<str:token>/feedback/",
        need_status_views.need_status_feedback,
        name="need_status_feedback",
    ),
    path("ask/<int:cadre_id>/", views.ask, name="ask_cadre"),
    # 见面码: the cadre's screen (login), the youth's scan and tap (public).
    path("meet/", confirm_views.meeting_screen, name="meet"),
    path("meet/pending/<int:pk>/accept/", confirm_views.meeting_accept, name="meet_accept"),
    path("meet/pending/<int:pk>/dismiss/", confirm_views.meeting_dismiss, name="meet_dismiss"),
    path("m/confirm/", confirm_views.meeting_confirm, name="meet_confirm"),
    path("m/<str:code>/", confirm_views.meeting_scan, name="meet_scan"),
    # A logged contact's share link (public): the youth confirms or denies it.
    path("c/<str:token>/", confirm_views.share_confirm, name="share"),
    path("confirmations/signals/", confirm_views.confirmation_signals, name="signals"),
]
