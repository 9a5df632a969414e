"""The site's URLs plus one view that fails, to see the 500 page as people get it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mlplatform.urls import handler400, handler404, handler500
from mlplatform.urls import urlpatterns as site_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, on purpose")


urlpatterns = [path("broken", broken), path("api/v1/broken", broken), *site_urlpatterns]
__all__ = ["handler400", "handler404", "handler500", "urlpatterns"]
