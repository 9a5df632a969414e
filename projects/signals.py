"""Signals the projects app sends; other apps (alerts, live updates) subscribe to them."""

from django.dispatch import Signal

# Sent once per newly stored snapshot, after its transaction committed, in the process that stored
# it (a web server, or a collector's worker). Arguments: snapshot_pk. `projects.tasks` queues the
# snapshot's processing; a receiver must not raise (the snapshot is stored whatever happens next).
snapshot_stored = Signal()

# Sent once per stored snapshot, after its transaction committed, by the processing task (so in a
# worker). Arguments: snapshot (a projects.models.Snapshot with its project).
snapshot_ingested = Signal()
