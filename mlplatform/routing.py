"""Websocket routes, gathered from the apps that serve them."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
