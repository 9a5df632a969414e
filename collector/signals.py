"""Signals the collector sends: work it announces (its tasks module queues it), and the steps of a
run, for code that wants to watch or hold one."""

from django.dispatch import Signal

# A collector's rows are to be computed: asked for by hand (`force`, after the request's
# transaction committed), or due by a trigger. Arguments: collector_id (str), force (bool).
# `collector.tasks` queues the run.
run_wanted = Signal()

# Labels were stored for a collector (after commit). Arguments: collector_id (str).
# `collector.tasks` queues the quality snapshots they may complete.
labels_received = Signal()

# A run has claimed its batches: it holds its collector's row lock, and its snapshot is not stored
# yet. Sent in the process computing it (a worker), inside the run's transaction; a receiver that
# raises aborts the run (nothing is stored or consumed). Arguments: collector, run_id (the run's
# UUID), rows. The crash test connects a receiver here to hold a run open in its worker.
run_started = Signal()
