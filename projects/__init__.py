"""Projects: what an organisation monitors; later snapshots, metric points and dashboards."""
