"""Migrate, seed and serve the demo (HTTP and websockets, one process), then print how to log in.

What `scripts/demo` runs, with the embedded default's settings: it serves at HOST:PORT (the
settings' `DEMO_HOST` and `DEMO_PORT`, from which `SITE_URL` is derived too). The login line is
printed once the server listens, and is the last line printed before the site serves: the emails the
seeding sent come above it, and uvicorn's own start-up chatter is left out (its errors are not).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from mlplatform.management.commands.seed_demo import login_line
from mlplatform.settings.env import served_at

# Browsers only ever send pings: websocket messages are capped at 64 KiB, as in production's
# server command (docker-compose.yml, Dockerfile).
WS_MAX_SIZE = 65536


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls `announce` once it listens (and not when start-up fails)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self.announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            self.announce()


class Command(BaseCommand):
    help = "Migrate, seed and serve the demo at HOST:PORT, then print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        host = getattr(settings, "DEMO_HOST", None)
        port = getattr(settings, "DEMO_PORT", None)
        if host is None or port is None:
            raise CommandError(
                "serve_demo serves the embedded default: run it with "
                "DJANGO_SETTINGS_MODULE=mlplatform.settings.local (scripts/demo does)."
            )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", url=settings.SITE_URL, announce=False)
        # The server's threads open their own connections; the seeding's is not theirs to share.
        connections.close_all()

        def announce() -> None:
            self.stdout.write(f"Serving on {served_at(host, port)} (Ctrl+C to stop)")
            self.stdout.write(self.style.SUCCESS(login_line(settings.SITE_URL)))
            self.stdout.flush()

        config = uvicorn.Config(
            "mlplatform.asgi:application",
            host=host,
            port=port,
            access_log=False,
            ws_max_size=WS_MAX_SIZE,
            lifespan="off",  # Django's ASGI application has no lifespan protocol
            log_level="warning",
        )
        AnnouncingServer(config, announce).run()
