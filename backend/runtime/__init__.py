"""The agent runtime: pydantic-ai agent loop, models (offline, OpenAI, Anthropic, OpenAI-compatible),
durable execution with leases, and the sweeper/reconciler that make runs survive faults."""
