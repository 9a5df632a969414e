"""The collector: live inferences in, scheduled snapshots out (to be built)."""
