"""Accounts, login sessions, API keys and service accounts."""
