"""Projects: what an organisation monitors, its snapshots and metric points, dashboards and live updates."""
