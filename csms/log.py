"""structlog set-up: console or JSON lines, one level for the whole process; and the libraries'
standard-library loggers, with what websockets writes at debug kept free of credentials."""

from __future__ import annotations

import logging
import sys

import structlog
from websockets.frames import Frame, Opcode

__all__ = [
    "RedactWebsocketsSecrets",
    "configure_library_logging",
    "configure_logging",
    "get_logger",
]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        # Filtering happens before any processor runs, so debug frame logging costs almost
        # nothing when the level is info.
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    configure_library_logging(level)
    logging.basicConfig(
        level=max(_LEVELS[level], logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def configure_library_logging(level: str) -> None:
    """The standard-library loggers of the libraries (uvicorn, websockets, ocpp)."""
    # websockets logs every connection and the ocpp library every frame (the simulators use it)
    # at INFO; our gateway logs both with context, frames at debug.
    for noisy in ("websockets", "ocpp"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    # A logger's filters see only its own records, not its children's: one per side.
    for name in ("websockets.server", "websockets.client"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactWebsocketsSecrets) for f in logger.filters):
            logger.addFilter(RedactWebsocketsSecrets())


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_HEADER_LINES = frozenset({"< %s: %s", "> %s: %s"})
_FRAME_LINES = frozenset({"< %s", "> %s"})
_DATA_OPCODES = frozenset({Opcode.TEXT, Opcode.BINARY, Opcode.CONT})
_MASK = "********"


class RedactWebsocketsSecrets(logging.Filter):
    """What websockets writes at debug, without credentials.

    At debug websockets logs every handshake header ("< %s: %s": the charger's Basic credentials
    among them) and the beginning and end of every frame ("< %s": a ChangeConfiguration carrying
    a new AuthorizationKey ends with it). Secret headers keep their name with the value masked;
    data frames keep their type and length only (our own frame log shows them, masked).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if record.msg in _HEADER_LINES and len(args) == 2:
            name = args[0]
            if isinstance(name, str) and name.lower() in _SECRET_HEADERS:
                record.args = (name, _MASK)
        elif record.msg in _FRAME_LINES and len(args) == 1:
            frame = args[0]
            if isinstance(frame, Frame) and frame.opcode in _DATA_OPCODES:
                record.args = (f"{frame.opcode.name} [{len(frame.data)} bytes, not shown]",)
        return True
