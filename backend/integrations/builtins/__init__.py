"""The built-in integration types, registered through the same entry points as plugins."""
