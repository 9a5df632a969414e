"""Live updates: tell open dashboards of a project that a snapshot arrived (the one broadcast helper)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from projects.models import Snapshot


def project_group(project_id: object) -> str:
    """The channel-layer group of a project's open dashboards."""
    return f"project.{project_id}"


def snapshot_message(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "type": "snapshot.ingested",
        "snapshot": {
            "id": str(snapshot.uuid),
            "timestamp": snapshot.timestamp.isoformat(),
            "name": snapshot.name,
            "status": snapshot.status,
            "test_counts": snapshot.test_counts,
        },
    }


def broadcast_snapshot(sender: Any, snapshot: Snapshot, **kwargs: Any) -> None:
    """A `snapshot_ingested` receiver: the dashboards re-fetch what they show (the message is a
    hint, not the data)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            project_group(snapshot.project_id), snapshot_message(snapshot)
        )
