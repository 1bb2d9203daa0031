from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scores/", views.score_list, name="scores"),
    path("cadres/<int:pk>/", views.cadre_score, name="cadre_score"),
    path("flags/", views.flag_list, name="flags"),
    path("integrity/", views.integrity_list, name="integrity"),
    path("integrity/<int:pk>/", views.integrity_detail, name="integrity_detail"),
    path("flags/<int:flag_pk>/case/", views.case_open, name="case_open"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/close/", views.case_close, name="case_close"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("bulletin/print.css", views.bulletin_print_css, name="bulletin_print_css"),
    path("review/", views.review, name="review"),
    path("eligibility/", views.eligibility, name="eligibility"),
    path("policy/", views.policy, name="policy"),
    path("compute/", views.compute, name="compute"),
    path("freshness/", views.freshness_status, name="freshness"),
]
