"""The site's URLs plus a view that holds a database connection for a while, as a slow page or a
big ingestion does: clients can disconnect while it runs."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from mlplatform.urls import handler400, handler404, handler500
from mlplatform.urls import urlpatterns as site_urlpatterns


def hold(request: HttpRequest) -> JsonResponse:
    seconds = min(float(request.GET.get("seconds", "0.5")), 5.0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return JsonResponse({"held": seconds})


urlpatterns = [path("test/hold", hold), *site_urlpatterns]
__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
