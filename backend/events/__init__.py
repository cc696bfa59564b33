"""Live run events over Redis pub/sub: publishing after commit, and one shared subscriber per process.

Redis holds nothing durable here: every event that matters is a ``run_events`` row first, so a lost
publish only delays a subscriber until it replays from PostgreSQL.
"""

from backend.events.codec import channel, decode, encode
from backend.events.hub import EventHub, Subscription, hub_for
from backend.events.publish import publish

__all__ = ["EventHub", "Subscription", "channel", "decode", "encode", "hub_for", "publish"]
