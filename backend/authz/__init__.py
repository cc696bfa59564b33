"""Authorisation: the one choke point. Rules live in ``policies/*.polar`` only."""

from backend.authz.actor import Actor

__all__ = ["Actor"]
