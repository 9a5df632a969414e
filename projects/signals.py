"""Signals the projects app sends; other apps (alerts, live updates) subscribe to them."""

from django.dispatch import Signal

# Sent once per stored snapshot, after its transaction committed, by the processing task (so in a
# worker). Arguments: snapshot (a projects.models.Snapshot with its project).
snapshot_ingested = Signal()
