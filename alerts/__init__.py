"""Alerts: rules over snapshots, alert states, and email, Slack and webhook delivery."""
