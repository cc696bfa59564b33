"""Command-line entry points and the process supervisor of ``agentry up``."""
