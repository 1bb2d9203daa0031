from django.urls import path

from . import views

app_name = "cadres"

urlpatterns = [
    path("organisations/", views.organisation_index, name="organisation_list"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
]
