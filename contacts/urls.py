from django.urls import path

from . import views

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
    path("needs/new/", views.need_new, name="need_new"),
    path("needs/groups/", views.need_groups, name="need_groups"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/answer/", views.need_answer, name="need_answer"),
    path("needs/<int:pk>/assign/", views.need_assign, name="need_assign"),
    path("needs/<int:pk>/close/", views.need_close, name="need_close"),
    # Public (no login): the venue's QR code and the cadre's contact-card QR code.
    path("ask/", views.ask, name="ask"),
    path("ask/thanks/", views.ask_done, name="ask_done"),
    path("ask/<int:cadre_id>/", views.ask, name="ask_cadre"),
]
