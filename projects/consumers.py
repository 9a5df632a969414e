"""The live dashboard websocket: a member's socket joins its project's group and gets new points."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.http import Http404
from django.utils.http import is_same_domain

from mlplatform.accounts.access import access_for_user, parse_uuid
from mlplatform.accounts.models import User
from projects.live import project_group
from projects.models import Project

# Membership is checked when the socket opens and again before forwarding a message, at most this
# often: a removed member's open socket is closed by the first broadcast after this many seconds.
ACCESS_RECHECK_SECONDS = 30.0
# Browsers only send pings ({"type": "ping"}); anything longer is dropped unread.
MAX_CLIENT_MESSAGE_CHARS = 1024
# Sent when access was revoked while the socket was open (4000-4999 are the application's codes).
CLOSE_ACCESS_REVOKED = 4403


# The websocket scheme a page of each web scheme uses for a socket to its own origin.
_SOCKET_SCHEMES = {"http": "ws", "https": "wss"}


def same_origin(scope: dict[str, Any]) -> bool:
    """Whether the handshake comes from a page of this site.

    Browsers send cookies with cross-site websocket handshakes, so without this check any page the
    user visits could read their dashboards (cross-site websocket hijacking). The Origin's host and
    port must equal the Host the browser connected to and its scheme the socket's (an http page
    opens ws://, an https page wss://: an https Origin on a plain socket is another origin), or
    the Origin must be one of `CSRF_TRUSTED_ORIGINS` (for a proxy that rewrites Host). No Origin
    at all is refused too.
    """
    origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
    hosts = [value for name, value in scope.get("headers", []) if name == b"host"]
    if len(origins) != 1:
        return False
    origin = origins[0].decode("latin-1").strip().lower()
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    # ASGI: "ws" unless the connection is TLS (or uvicorn's --proxy-headers says the client's was).
    socket_scheme = scope.get("scheme", "ws")
    if (
        len(hosts) == 1
        and parts.netloc == hosts[0].decode("latin-1").strip().lower()
        and _SOCKET_SCHEMES[parts.scheme] == socket_scheme
    ):
        return True
    return _trusted_origin(parts.scheme, parts.netloc)


def _trusted_origin(scheme: str, netloc: str) -> bool:
    # The same matching as Django's CSRF check: exact origins, or "https://*.example.com".
    for trusted in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        parts = urlsplit(trusted.lower())
        if parts.scheme != scheme:
            continue
        if parts.netloc.startswith("*"):
            if is_same_domain(netloc, parts.netloc[1:]):
                return True
        elif parts.netloc == netloc:
            return True
    return False


def visible_project(user_id: Any, project_id: uuid.UUID) -> Project | None:
    """The project, if the (active) user may see it through the access layer; else None."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    org_id = Project.objects.filter(pk=project_id).values_list("organization_id", flat=True).first()
    if user is None or org_id is None:
        return None
    try:
        return access_for_user(user, org_id=org_id).project(project_id)
    except Http404:
        return None


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """`ws/projects/<project_id>/live`: new snapshots of one project, for its open dashboards.

    Refused (HTTP 403, before joining any group) unless the Origin is this site, the session is
    signed in and the project is visible to its user. See docs/live-updates.md for the protocol.
    """

    project_id: uuid.UUID | None = None
    user_id: Any = None
    access_checked_at: float = 0.0
    revoked: bool = False

    async def connect(self) -> None:
        project = await self._project_on_connect()
        if project is None:
            # Closing before accepting refuses the handshake: the browser gets a 403.
            await self.close()
            return
        self.project_id = project.pk
        self.access_checked_at = time.monotonic()
        group = project_group(project.pk)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)  # left in websocket_disconnect
        await self.accept()

    async def _project_on_connect(self) -> Project | None:
        if not same_origin(self.scope):
            return None
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        project_id = parse_uuid(self.scope["url_route"]["kwargs"].get("project_id"))
        if project_id is None:
            return None
        self.user_id = user.pk
        return await database_sync_to_async(visible_project)(user.pk, project_id)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        # Never trust the browser's frames: binary, oversized, non-JSON or unknown ones are ignored.
        if text_data is None or len(text_data) > MAX_CLIENT_MESSAGE_CHARS:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def snapshot_ingested(self, event: dict[str, Any]) -> None:
        """A channel-layer message from `projects.live.broadcast_snapshot`."""
        if self.revoked:
            return
        if not await self._still_allowed():
            await self._close_revoked()
            return
        await self.send_json(
            {"type": "snapshot", "snapshot": event["snapshot"], "points": event.get("points")}
        )

    async def _still_allowed(self) -> bool:
        now = time.monotonic()
        if now - self.access_checked_at < ACCESS_RECHECK_SECONDS:
            return True
        assert self.project_id is not None
        project = await database_sync_to_async(visible_project)(self.user_id, self.project_id)
        if project is None:
            return False
        self.access_checked_at = now
        return True

    async def _close_revoked(self) -> None:
        self.revoked = True
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups.clear()
        await self.close(code=CLOSE_ACCESS_REVOKED)
