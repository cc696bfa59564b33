"""Long-term memory per (agent, user): written by the ``remember`` tool, read by ``recall``."""
