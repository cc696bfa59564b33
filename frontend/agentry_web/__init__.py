"""Agentry web UI: a Reflex app that talks to the Agentry API only over HTTP/GraphQL (see ``api``)."""
