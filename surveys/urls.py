from django.urls import path

from . import member_views, views

app_name = "surveys"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/codes/", views.codes_generate, name="codes_generate"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("campaigns/<int:pk>/ballot-box/", views.ballot_box_open, name="ballot_box_open"),
    path("campaigns/<int:pk>/settle/", views.campaign_settle, name="campaign_settle"),
    path("campaigns/<int:pk>/shares-lost/", views.shares_lost, name="shares_lost"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/reelection/", views.reelection_update, name="reelection_update"),
    path(
        "campaigns/<int:pk>/reelection/result/",
        views.reelection_result,
        name="reelection_result",
    ),
    path("campaigns/<int:pk>/slips/", member_views.slips, name="slips"),
    path("members/", member_views.roster_index, name="roster_index"),
    path("members/branch/<int:branch_pk>/", member_views.roster, name="roster"),
    path("members/branch/<int:branch_pk>/new/", member_views.member_create, name="member_create"),
    path(
        "members/branch/<int:branch_pk>/import/", member_views.roster_import, name="roster_import"
    ),
    path("members/<int:pk>/", member_views.member_edit, name="member_edit"),
    path("members/<int:pk>/end/", member_views.member_end, name="member_end"),
    # Public, stable: every code slip's QR code links to /surveys/vote/?code=…
    path("vote/", views.vote, name="vote"),
    path("receipts/<uuid:public_id>/", views.receipts, name="receipts"),
]
