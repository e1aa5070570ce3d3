"""The log file that holds tracebacks of unexpected errors (mode 0600, secrets never written)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .config import user_log_dir

LOG_NAME = "clinic-desk.log"


def log_path() -> Path:
    return Path(os.environ.get("CLINIC_DESK_LOG_DIR") or user_log_dir()) / LOG_NAME


def _logger() -> logging.Logger:
    logger = logging.getLogger("clinic_desk")
    path = log_path()
    if logger.handlers and getattr(logger.handlers[0], "baseFilename", None) != os.path.abspath(path):
        for handler in list(logger.handlers):  # the log dir changed (CLINIC_DESK_LOG_DIR): follow it
            logger.removeHandler(handler)
            handler.close()
    if not logger.handlers:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def log_exception(exc: BaseException) -> Path:
    """Write the traceback to the log file and return its path."""
    _logger().error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return log_path()


def log_info(message: str) -> None:
    _logger().info(message)
