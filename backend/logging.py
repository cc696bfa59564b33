"""structlog configuration: JSON lines in production, readable console output in development.

Request and run ids are bound in contextvars so every log line carries them.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(renderer: str = "console", level: str = "INFO") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    final: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, final],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, final],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "arq.worker", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # graph/errors.py logs unexpected errors (with the request id); expected ones (FORBIDDEN
    # fields, NOT_FOUND...) are answers, not failures, and must not cost a traceback each.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)


log = structlog.get_logger("agentry")
