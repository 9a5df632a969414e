"""Tenancy: users, organisations, roles, teams, invitations, API tokens and the access layer."""
