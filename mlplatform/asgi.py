"""The ASGI application: Django for HTTP, Channels for websockets (served by uvicorn)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlplatform.settings.local")

from mlplatform.settings.env import load_settings

load_settings()

from django.core.asgi import get_asgi_application  # noqa: E402

# Set up Django (the app registry) before anything imports models, consumers included.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from mlplatform.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
