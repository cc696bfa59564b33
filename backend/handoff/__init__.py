"""Agent-to-agent handoff: a tool per target deployment that runs the target as a child run."""
