"""Demo data for ``agentry seed`` and the first ``agentry up``."""

from backend.demo.seed import seed_demo

__all__ = ["seed_demo"]
