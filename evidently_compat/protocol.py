"""The names of Evidently 0.7's remote workspace protocol, as its client sends and expects them."""

from __future__ import annotations

APPLICATION_NAME = "Evidently UI"
"""What `GET /api/version` must answer in `application` for `RemoteWorkspace` to connect."""
PROTOCOL_VERSION = "0.7.23"
"""The Evidently release whose client this protocol was read from and is tested against."""
SECRET_HEADER = "evidently-secret"
"""`RemoteWorkspace(secret=...)` sends its secret here: our API token."""
TOKEN_HEADER = "X-Evidently-Token"
"""`CloudWorkspace(token=...)` sends its token here to `GET /api/users/login`."""
ACCESS_COOKIE = "app.at"
"""`CloudWorkspace` sends the login's answer back in this cookie on every later request."""
PROJECT_NOT_FOUND = "project not found"
"""The `detail` of a 404 for a project: the client's `get_project` answers None for it."""
NOT_AUTHORIZED = "Not authorized"
"""The `detail` of a refused session: CloudWorkspace logs in again when it reads exactly this."""
