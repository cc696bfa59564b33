"""Organisations, memberships, invitations and per-agent role grants."""
