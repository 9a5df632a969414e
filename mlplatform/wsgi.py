"""The WSGI application, for tools that want one; the platform itself is served over ASGI."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlplatform.settings.local")

from mlplatform.settings.env import load_settings

load_settings()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
