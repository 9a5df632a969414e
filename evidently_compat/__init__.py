"""Evidently's clients push to us unchanged: its remote workspace protocol, scoped to a token's
organisation, with its snapshots translated into ours and stored by the same ingestion."""
