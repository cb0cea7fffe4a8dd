"""A signed httpx client for the central API; each request carries the kiosk's HMAC headers."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import httpx

from kiosk.signing import signed_headers


class KioskAuth(httpx.Auth):
    """Signs each request (method, raw path and query, timestamp, nonce, body hash) with the kiosk secret."""

    requires_request_body = True

    def __init__(self, kiosk_id: str, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.kiosk_id = kiosk_id
        self.secret = secret
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path = request.url.raw_path.decode("ascii")
        request.headers.update(
            signed_headers(
                self.kiosk_id, self.secret, request.method, path, request.content, now=self.clock()
            )
        )
        yield request


def central_client(base_url: str, kiosk_id: str, secret: str, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", httpx.Timeout(10.0, connect=3.0))
    return httpx.Client(base_url=base_url, auth=KioskAuth(kiosk_id, secret), **kwargs)


def terminal_client(config: Any) -> httpx.Client:
    """This terminal's signed client, from kiosk.toml's [terminal] and [sync]; ConfigError if unusable."""
    from kiosk.config import Config, ConfigError

    assert isinstance(config, Config)  # noqa: S101 - typed loosely to keep this module's imports light
    tc = config.terminal
    if not tc.kiosk_id or not tc.secret_file:
        raise ConfigError(f"{config.source}: [terminal] kiosk_id and secret_file are required (see README)")
    try:
        secret = Path(tc.secret_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{tc.secret_file}: cannot read the kiosk secret: {exc.strerror}") from None
    if not secret:
        raise ConfigError(f"{tc.secret_file}: the kiosk secret file is empty")
    timeout = httpx.Timeout(config.sync.timeout_s, connect=min(3.0, config.sync.timeout_s))
    return central_client(tc.central_url, tc.kiosk_id, secret, timeout=timeout)
