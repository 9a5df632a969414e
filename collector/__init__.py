"""The collector: live inferences in, stored durably, and snapshots computed from them on a schedule."""
