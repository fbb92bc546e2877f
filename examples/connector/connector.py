"""connector: connect to the first reachable Wi-Fi Direct device of a preference list.

A small application of wifidirect, tested with its pytest plugin (see test_connector.py)::

    async with Connector(["02:00:5e:10:00:04", "02:00:5e:10:00:01"]) as connector:
        session = await connector.connect()
        print("connected to", session.address, "through", session.interface_guid)

Devices are tried in order. A device that does not answer (the open timed out, or completed with
ERROR_TIMEOUT) or whose service call failed transiently (RPC errors) is tried again, up to
``attempts`` times; a device that cannot work (unknown, not paired) is skipped at once; a stopped
WLAN service or a group policy that disables Wi-Fi Direct ends the search, since no other device
can work either.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import wifidirect

__all__ = ["Attempt", "Connector", "NoDeviceReachableError", "WiFiDirectUnavailableError", "main"]

#: Win32 codes worth another try: the device or the service may answer next time.
TRANSIENT = {
    1460,  # ERROR_TIMEOUT: out of range, or busy
    1722,  # RPC_S_SERVER_UNAVAILABLE
    1726,  # RPC_S_CALL_FAILED
}


@dataclass(frozen=True)
class Attempt:
    """One try to open a session: the device and why it failed ("" when it worked)."""

    address: str
    error: str


class NoDeviceReachableError(Exception):
    """No device of the list could be opened; ``attempts`` says what happened to each try."""

    def __init__(self, attempts: Sequence[Attempt]) -> None:
        tried = "; ".join(f"{a.address}: {a.error}" for a in attempts) or "no devices given"
        super().__init__(f"no device reachable ({tried})")
        self.attempts = tuple(attempts)


class WiFiDirectUnavailableError(Exception):
    """Wi-Fi Direct cannot work on this machine now (service stopped, or disabled by policy)."""


class Connector:
    """Owns a :class:`wifidirect.Client` and at most one session, to the first reachable device."""

    def __init__(
        self,
        devices: Sequence[str],
        *,
        timeout: float = 10.0,
        attempts: int = 2,
        retry_delay: float = 0.2,
    ) -> None:
        self.devices = [wifidirect.MacAddress(d) for d in devices]
        self.timeout = timeout
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.history: list[Attempt] = []
        self.session: wifidirect.Session | None = None
        self._client: wifidirect.Client | None = None

    async def __aenter__(self) -> Connector:
        try:
            self._client = wifidirect.Client()
        except wifidirect.ServiceNotActiveError as exc:  # WFDOpenHandle: no service to talk to
            raise WiFiDirectUnavailableError(str(exc)) from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the session and the client, without blocking the event loop."""
        client, self._client, self.session = self._client, None, None
        if client is not None:
            await client.aclose()  # closes the session too

    async def connect(self) -> wifidirect.Session:
        """Open a session to the first device that answers; reuse it while it is open."""
        if self._client is None:
            raise RuntimeError("use 'async with Connector(...)' first")
        if self.session is not None and not self.session.closed:
            return self.session
        tried: list[Attempt] = []
        for device in self.devices:
            for attempt in range(1, self.attempts + 1):
                try:
                    self.session = await self._client.open_session(device, timeout=self.timeout)
                except (wifidirect.ServiceNotActiveError, wifidirect.InvalidStateError) as exc:
                    raise WiFiDirectUnavailableError(str(exc)) from exc
                except TimeoutError:
                    tried.append(Attempt(str(device), f"no answer in {self.timeout:g} s"))
                    retry = True
                except wifidirect.WFDError as exc:
                    tried.append(Attempt(str(device), wifidirect.error_name(exc.winerror)))
                    retry = exc.winerror in TRANSIENT
                else:
                    tried.append(Attempt(str(device), ""))
                    self.history.extend(tried)
                    return self.session
                if not retry or attempt == self.attempts:
                    break
                await asyncio.sleep(self.retry_delay)
        self.history.extend(tried)
        raise NoDeviceReachableError(tried)


async def _run(devices: Sequence[str]) -> int:
    async with Connector(devices) as connector:
        try:
            session = await connector.connect()
        except (NoDeviceReachableError, WiFiDirectUnavailableError) as exc:
            print(f"connector: {exc}", file=sys.stderr)
            return 1
        print(f"connected to {session.address} through interface {session.interface_guid}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python connector.py MAC [MAC ...]``: connect to the first reachable device."""
    devices = list(sys.argv[1:] if argv is None else argv)
    if not devices:
        print("usage: python connector.py MAC [MAC ...]", file=sys.stderr)
        return 2
    return asyncio.run(_run(devices))


if __name__ == "__main__":
    sys.exit(main())
