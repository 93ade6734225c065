"""Tells systemd how the kiosk is doing: ready, still alive (the watchdog), stopping.

The sd_notify protocol is one datagram on the AF_UNIX socket named by $NOTIFY_SOCKET; outside
systemd the variable is unset and every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]  # an abstract socket
        self._address = address
        self._socket: socket.socket | None = None
        if address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        watchdog_usec = int(env.get("WATCHDOG_USEC", "0") or 0)
        # Ping at twice the rate systemd needs, and no more often than that.
        self._ping_every_s = watchdog_usec / 2e6 if watchdog_usec else 1.0
        self._clock = clock
        self._last_ping: float | None = None

    @property
    def active(self) -> bool:
        return self._socket is not None

    def send(self, message: str) -> None:
        if self._socket is None:
            return
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as error:
            log.debug("sd_notify failed: %s", error)

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def status(self, status: str) -> None:
        self.send(f"STATUS={status}")

    def alive(self) -> None:
        """Called from the main loop on every pass; pings the watchdog when due."""
        now = self._clock()
        if self._last_ping is None or now - self._last_ping >= self._ping_every_s:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
