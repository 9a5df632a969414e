"""Signals the alerts app sends: work it announces, which its tasks module queues."""

from django.dispatch import Signal

# A message is due for delivery, after the transaction that made it due committed. Arguments:
# message_id (str), delay (seconds to wait first, or None). `alerts.tasks` queues the attempt; a
# receiver must not raise (a message left due is sent by the sweeper).
message_due = Signal()
