from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from cadres import privacy_views
from cadres.forms import LoginForm

from . import pickers, views

admin.site.site_header = "联青 Lianqing"
admin.site.site_title = "联青管理后台"
admin.site.index_title = "组织、用户与设置"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/setlang/", set_language, name="set_language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("cadres/", include("cadres.urls")),
    path("contacts/", include("contacts.urls")),
    path("surveys/", include("surveys.urls")),
    path("activities/", include("activities.urls")),
    path("assessment/", include("assessment.urls")),
    # A youth's own "加入联系" from a cadre's card (public, signed token; cadres/privacy.py).
    path("join/<str:token>/", privacy_views.join, name="join"),
    path("join/<str:token>/done/", privacy_views.join_done, name="join_done"),
    path("notifications/", include("assessment.notification_urls")),
    # The one searchable picker's suggestions (config/pickers.py), scoped to the user.
    path("pickers/<str:kind>/", pickers.picker_search, name="picker"),
]

handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

# Uploaded files go through an authenticated, scoped view in every environment (also in
# debug): photos of activities show youths; never a public static route.
urlpatterns += [
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.media, name="media"),
]

if settings.LIANQING_BENCHMARK:  # manage.py benchmark_pages only (config/benchmark.py)
    from . import benchmark

    urlpatterns += [path("__benchmark__/floor/", benchmark.floor, name="benchmark_floor")]
