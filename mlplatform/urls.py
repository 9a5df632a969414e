"""URL configuration: pages, sign-in (django-allauth), the REST API, the Evidently-compatible API
and the health check."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from evidently_compat.urls import urlpatterns as evidently_urls
from mlplatform import health
from mlplatform.api_errors import api_not_found

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page says: the logo answers.
    path("favicon.ico", health.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("mlplatform.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (?script=): no inline script for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Evidently's clients, where they really ask (see evidently_compat/urls.py) and under a prefix.
    path("", include((evidently_urls, "evidently"), namespace="evidently-root")),
    path("evidently/", include((evidently_urls, "evidently"), namespace="evidently")),
    re_path(r"^api/", api_not_found),  # JSON, not an HTML page, for unknown API URLs
    re_path(r"^evidently/", api_not_found),
    path("", include("mlplatform.accounts.urls")),
    path("", include("alerts.urls")),
    path("", include("collector.urls")),
    path("", include("projects.urls")),
]

handler400 = "mlplatform.api_errors.bad_request"
handler404 = "mlplatform.api_errors.page_not_found"
handler500 = "mlplatform.api_errors.server_error"
