"""Live updates: the one broadcast helper, which sends new points to a project's open dashboards."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from projects.models import MetricPoint, Snapshot

logger = logging.getLogger(__name__)

# Above this many points a snapshot is announced without them ("points": null) and the page
# re-fetches: the message stays far below the channel layer's size limits (channels_redis keeps
# each message whole in one Redis list entry, the in-memory layer in one queue slot).
MAX_POINTS_PER_MESSAGE = 5000

# The channel-layer type of the message; Channels dispatches it to the consumer's
# `snapshot_ingested` method, which forwards it to the browser as {"type": "snapshot", ...}.
SNAPSHOT_MESSAGE_TYPE = "snapshot.ingested"


def project_group(project_id: object) -> str:
    """The channel-layer group of a project's open dashboards."""
    return f"project.{project_id}"


def snapshot_points(snapshot: Snapshot) -> dict[str, float] | None:
    """The snapshot's values by series id (as a string, a JSON key), or None when there are more
    than `MAX_POINTS_PER_MESSAGE`."""
    rows = list(
        MetricPoint.objects.filter(snapshot_id=snapshot.pk).values_list("series_id", "value")[
            : MAX_POINTS_PER_MESSAGE + 1
        ]
    )
    if len(rows) > MAX_POINTS_PER_MESSAGE:
        return None
    return {str(series_id): value for series_id, value in rows}


def snapshot_message(snapshot: Snapshot) -> dict[str, Any]:
    """The channel-layer message announcing `snapshot`: its summary and its points.

    Everything but `type` reaches the browser unchanged (see `projects.consumers`)."""
    return {
        "type": SNAPSHOT_MESSAGE_TYPE,
        "snapshot": {
            "id": str(snapshot.uuid),
            "timestamp": snapshot.timestamp.timestamp(),
            "iso": snapshot.timestamp.isoformat(),
            "name": snapshot.name,
            "status": snapshot.status,
            "test_counts": snapshot.test_counts,
        },
        "points": snapshot_points(snapshot),
    }


def broadcast_snapshot(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: the project's open dashboards append the new points.

    The socket is a hint on top of the stored data, so a failure here (Redis down) is logged and
    never breaks snapshot processing: pages catch up when they reconnect and re-fetch."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            project_group(snapshot.project_id), snapshot_message(snapshot)
        )
    except Exception:
        logger.exception(
            "Live update of snapshot %s (project %s) not sent.", snapshot.uuid, snapshot.project_id
        )
