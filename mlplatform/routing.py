"""Websocket routes, gathered from the apps that serve them."""

from django.urls import URLPattern, path

from projects.consumers import DashboardConsumer

# Any id reaches the consumer (not a <uuid:> converter): a malformed one is refused like an
# unknown project, with a 403, instead of failing in the router.
websocket_urlpatterns: list[URLPattern] = [
    path("ws/projects/<str:project_id>/live", DashboardConsumer.as_asgi()),
]
