"""No full ID number reaches a log line, whether in the message, its arguments or a traceback."""

from __future__ import annotations

import io
import logging

from kiosk.logs import RedactIdNumbers

CERTNO = "11010519491231002X"


def _logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactIdNumbers())
    logger = logging.getLogger(f"test-redact-{id(out)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_message_and_arguments_are_masked() -> None:
    logger, out = _logger()
    logger.info("lookup %s for holder", CERTNO)
    logger.warning(f"relative {CERTNO} refused")
    text = out.getvalue()
    assert CERTNO not in text and text.count("110105********002X") == 2


def test_tracebacks_are_masked() -> None:
    logger, out = _logger()
    try:
        raise ValueError(f"bad person {CERTNO}")
    except ValueError:
        logger.exception("failed")
    text = out.getvalue()
    assert "Traceback" in text and CERTNO not in text and "110105********002X" in text


def test_other_lines_are_untouched() -> None:
    logger, out = _logger()
    logger.info("queue %d, oldest %s", 12, "2026-11-23")
    assert out.getvalue() == "queue 12, oldest 2026-11-23\n"
