"""pytest plugin for applications that use wifidirect: the ``wfd_sim`` fixture.

Enable it in your ``conftest.py`` (or with ``pytest -p wifidirect.testing``)::

    pytest_plugins = ["wifidirect.testing"]

then request the fixture::

    def test_connects_to_the_tv(wfd_sim):
        wfd_sim.peer("02:00:00:00:00:42").named("Test TV").latency(0.05)
        wfd_sim.peer("02:00:00:00:00:43").fails("ERROR_TIMEOUT", reason=9)
        assert my_app.connect_first(["02:00:00:00:00:43", "02:00:00:00:00:42"]) == ...

For the duration of the test ``wfd_sim`` selects the simulator (``$WIFIDIRECT_BACKEND=sim``,
also on Windows where Wlanapi.dll exists; a default backend that is already a simulator, such as
the simulator built as wlanapi.dll in wifidirect's own Wine run, is kept), starting from a reset
simulator: the default peers,
service running, policy enabled, counters zero. At teardown it waits until every completion,
disconnect and deferred cleanup has run, and fails the test if the simulator counted a
*contract violation*: a call your code made (through wifidirect) that is undefined or deadlocks
on real Windows.

The module is also registered as the ``pytest11`` entry point ``wifidirect.testing``. It defines
one fixture, not autouse, and no hooks; importing it loads no compiled module and starts no
thread, so an unrelated test suite in the same environment behaves exactly as before. Disable
it entirely with ``-p no:wifidirect.testing``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from . import _native, _opens, _process, _workers, sim
from ._clients import ClientState
from ._native import BACKEND_ENV
from ._opens import Open
from .address import AddressLike, MacAddress
from .client import Client
from .errors import ERROR_NAMES
from .session import Session

__all__ = ["DEFAULT_PEERS", "PeerScript", "SimController", "wfd_sim"]

DEFAULT_PEERS: dict[str, str]  # made on first use (module __getattr__): loads the simulator


def __getattr__(name: str) -> dict[str, str]:
    """``DEFAULT_PEERS``: the simulator's default peers after a reset, address -> name, as the
    simulator's C defines them (docs/simulator.md). Computed on first access, so importing this
    module loads no compiled module."""
    if name == "DEFAULT_PEERS":
        return {str(p.address): p.name for p in sim.default_peers()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CODES_BY_NAME = {name: code for code, name in ERROR_NAMES.items()}


def _error_code(error: int | str) -> int:
    if isinstance(error, str):
        try:
            return _CODES_BY_NAME[error]
        except KeyError:
            raise ValueError(
                f"unknown error name {error!r}: use a Win32 code (int) or one of "
                f"{', '.join(sorted(n for n in _CODES_BY_NAME if n != 'ERROR_SUCCESS'))}"
            ) from None
    if isinstance(error, bool) or not isinstance(error, int):
        raise TypeError(f"error must be a Win32 code or its name, not {error!r}")
    return error


class PeerScript:
    """One simulated peer, configured by chained calls. Each call takes effect at once (it
    reconfigures the peer in the simulator) and returns the same object::

        wfd_sim.peer("02:00:00:00:00:42").named("TV").latency(0.05).fails(1460, reason=9)
    """

    __slots__ = ("address",)

    def __init__(self, address: MacAddress) -> None:
        self.address = address

    def _update(
        self,
        *,
        name: str | None = None,
        paired: bool | None = None,
        legacy: bool | None = None,
        visible: bool | None = None,
        latency: float | None = None,
        error: int | None = None,
        reason: int | None = None,
        fail_times: int | None = None,
    ) -> PeerScript:
        now = sim.peer(self.address)
        sim.add_peer(
            self.address,
            name=now.name if name is None else name,
            paired=now.paired if paired is None else paired,
            legacy=now.legacy if legacy is None else legacy,
            visible=now.visible if visible is None else visible,
            latency=now.latency if latency is None else latency,
            error=now.error if error is None else error,
            reason=now.reason if reason is None else reason,
            fail_times=now.fail_times if fail_times is None else fail_times,
        )
        return self

    @property
    def state(self) -> sim.Peer:
        """The peer as the simulator has it now (configuration and visibility state)."""
        return sim.peer(self.address)

    def named(self, name: str) -> PeerScript:
        """Set the display name."""
        return self._update(name=name)

    def latency(self, seconds: float) -> PeerScript:
        """Seconds from the start of an open to its completion (also a legacy open's duration)."""
        return self._update(latency=seconds)

    def succeeds(self) -> PeerScript:
        """Opens complete successfully (the default for a new peer)."""
        return self._update(error=0, reason=0, fail_times=0)

    def fails(self, error: int | str, reason: int = 0, times: int | None = None) -> PeerScript:
        """Opens complete with this Win32 code (``1460`` or ``"ERROR_TIMEOUT"``) and reason
        code; legacy opens return it. ``times=N``: only the next N opens fail, then they
        succeed (a retry loop's test); ``None``: every open fails."""
        code = _error_code(error)
        if code == 0:
            raise ValueError("fails() needs a non-zero error code; use succeeds()")
        if times is not None and (
            isinstance(times, bool) or not isinstance(times, int) or times < 1
        ):
            raise ValueError(f"times must be a whole number >= 1 or None, not {times!r}")
        return self._update(error=code, reason=reason, fail_times=times or 0)

    def drop(self, reason: int = 0) -> PeerScript:
        """The peer leaves now: its sessions' links go down (``Session.connected`` turns
        ``False``, ``wait_disconnected()`` returns); see ``sim.drop``."""
        sim.drop(self.address, reason)
        return self

    def legacy(self, enabled: bool = True) -> PeerScript:
        """A legacy WPS device with a stored profile, for ``open_legacy_session``."""
        return self._update(legacy=enabled)

    def visible(self, enabled: bool = True) -> PeerScript:
        """In range (the default). Opens to an invisible peer fail with ERROR_TIMEOUT, reason
        ``sim.REASON_NOT_VISIBLE``."""
        return self._update(visible=enabled)

    def hidden(self) -> PeerScript:
        """Out of range: the same as ``visible(False)``."""
        return self._update(visible=False)

    def paired(self, enabled: bool = True) -> PeerScript:
        """Paired through Windows' pairing UI (the default). Opens to an unpaired peer fail with
        ERROR_NOT_AUTHENTICATED, reason ``sim.REASON_NOT_PAIRED``."""
        return self._update(paired=enabled)

    def unpaired(self) -> PeerScript:
        """The same as ``paired(False)``."""
        return self._update(paired=False)

    def remove(self) -> None:
        """Remove the peer: opens to it then fail with ERROR_NOT_FOUND."""
        sim.remove_peer(self.address)

    def __repr__(self) -> str:
        return f"<wfd_sim peer {self.address}>"


class SimController:
    """What the ``wfd_sim`` fixture gives a test: the simulator, scripted fluently.

    Methods that change settings return the controller, so calls chain::

        wfd_sim.clear().service(running=True).policy(disabled=False)
    """

    #: The backend name a ``Client()`` uses during the test.
    backend = "sim"

    def peer(self, address: AddressLike, name: str | None = None) -> PeerScript:
        """The peer with this address, created if needed (paired, visible, no latency,
        succeeds). ``name`` sets its display name."""
        script = PeerScript(MacAddress(address))
        try:
            sim.peer(script.address)
        except KeyError:
            sim.add_peer(script.address, name=name or "")
        else:
            if name is not None:
                script.named(name)
        return script

    @property
    def peers(self) -> tuple[sim.Peer, ...]:
        """Every peer, in the order it was added."""
        return sim.peers()

    def clear(self) -> SimController:
        """Remove every peer, the default ones included."""
        for p in sim.peers():
            sim.remove_peer(p.address)
        return self

    def service(self, running: bool = True) -> SimController:
        """Start or stop the WLAN AutoConfig service: while stopped, opens fail with
        ``ServiceNotActiveError``."""
        sim.set_service_running(running)
        return self

    def policy(self, disabled: bool = False) -> SimController:
        """Disable Wi-Fi Direct by group policy: opens fail with ``InvalidStateError``."""
        sim.set_group_policy_disabled(disabled)
        return self

    def handle_limit(self, limit: int) -> SimController:
        """How many clients may be open at once; the next ``Client()`` beyond it raises
        ``SessionLimitError``."""
        sim.set_handle_limit(limit)
        return self

    def inject_error(self, function: str, code: int | str) -> SimController:
        """The next call of ``function`` (a name from ``sim.FUNCTIONS``) fails with ``code``."""
        sim.inject_error(function, _error_code(code))
        return self

    def fail_allocations(self, count: int) -> SimController:
        """The simulator's next ``count`` allocations fail (``NotEnoughMemoryError``)."""
        sim.fail_allocations(count)
        return self

    def slow(self, function: str, seconds: float) -> SimController:
        """Every call of ``function`` (a name from ``sim.FUNCTIONS``) takes ``seconds``, as on a
        busy service (``sim.set_call_delay``)."""
        sim.set_call_delay(function, seconds)
        return self

    def drop(self, address: AddressLike, reason: int = 0) -> SimController:
        """The peer with this address leaves: its sessions' links go down (``sim.drop``)."""
        sim.drop(address, reason)
        return self

    def keep(self, obj: Client | Session) -> SimController:
        """Let this client or session outlive the test: it is not reported as a leak, and
        later tests keep it working (their reset leaves live handles valid). For a
        process-wide client that the application makes once; closing it stays yours."""
        _kept.add(obj._state if isinstance(obj, Client) else obj._op)
        return self

    @property
    def default_peers(self) -> tuple[sim.Peer, ...]:
        """The peers a reset restores (``sim.default_peers()``)."""
        return sim.default_peers()

    @property
    def stats(self) -> sim.Stats:
        """A snapshot of the counters (clients, sessions, pending opens, callbacks, violations)."""
        return sim.stats()

    def settle(self, timeout: float = 5.0) -> sim.Stats:
        """Wait until queued starts, completions, disconnects and deferred cleanup have all
        run; return the counters then. ``TimeoutError`` if that takes longer than ``timeout``
        seconds."""
        # Each kind of work may make another: a start a completion, a completion a close on
        # wifidirect's workers, a close simulator work. Done when one pass finds all idle.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(backend.starters_busy() for backend in _native.loaded_backends()):
                time.sleep(0.001)
                continue
            left = max(0.0, deadline - time.monotonic())
            if not (sim.wait_idle(left) and _workers.drain(left)):
                break
            if sim.wait_idle(0) and not any(
                backend.starters_busy() for backend in _native.loaded_backends()
            ):
                return sim.stats()
        stats = sim.stats()
        raise TimeoutError(
            f"the wifidirect simulator did not go idle within {timeout:g} s "
            f"({stats.pending_opens} opens pending, {stats.sessions} sessions)"
        )

    def __repr__(self) -> str:
        s = sim.stats()
        return (
            f"<wfd_sim: {len(sim.peers())} peers, {s.clients} clients, {s.sessions} sessions, "
            f"{s.violations} violations>"
        )


def _violation_report(stats: sim.Stats) -> str:
    """The failure message for a test during which the simulator counted violations."""
    kinds = ", ".join(f"{kind}={n}" for kind, n in stats.violations_by_kind.items() if n)
    return (
        f"the wifidirect simulator counted {stats.violations} contract violation(s) during this "
        f"test: {kinds} (calls that are undefined or deadlock on real Windows; see the "
        "wifidirect README, 'Contract violations')"
    )


#: The client states and opens that may outlive a test (SimController.keep).
_kept: set[ClientState | Open] = set()


def _open_sessions(state: ClientState) -> list[Open]:
    with _opens._lock:
        return [op for op in state.ops.values() if op.is_open]


def _snapshot() -> set[ClientState | Open]:
    """Every live client state and open session now (held: no id is reused meanwhile)."""
    found: set[ClientState | Open] = set()
    for state in _process.live_clients():
        found.add(state)
        found.update(_open_sessions(state))
    return found


def _leaks(before: set[ClientState | Open]) -> tuple[list[ClientState], list[Open]]:
    """Clients made and sessions opened since ``before``, still open and not kept (sessions of
    a leaked client count with it)."""
    clients, sessions = [], []
    for state in _process.live_clients():
        fresh = state not in before and state not in _kept
        if fresh:
            clients.append(state)
            continue
        sessions += [op for op in _open_sessions(state) if op not in before and op not in _kept]
    return clients, sessions


def _leak_report(clients: list[ClientState], sessions: list[Open]) -> str:
    parts = []
    for state in clients:
        ops = _open_sessions(state)
        to = f": {', '.join(str(op.address) for op in ops)}" if ops else ""
        parts.append(
            f"a wifidirect.Client (backend {state.backend.name!r}) with {len(ops)} open "
            f"session(s){to}"
        )
    parts += [f"a wifidirect.Session to {op.address}" for op in sessions]
    return (
        f"this test left {len(parts)} wifidirect object(s) open: {'; '.join(parts)}. Close "
        "them (`with` / `async with`, or close()); they are closed now. A client meant to "
        "live across tests: wfd_sim.keep(client)"
    )


def _close_leaks(clients: list[ClientState], sessions: list[Open]) -> None:
    for op in sessions:
        op.finish()
    for state in clients:
        state.close(wait=5.0)


@pytest.fixture
def wfd_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimController]:
    """The bundled simulator, selected and reset for this test; fails the test at teardown if
    the simulator counted a contract violation, or if the test left a Client or Session open
    (see :meth:`SimController.keep`)."""
    if not _native.default_backend_is_simulator():
        monkeypatch.setenv(BACKEND_ENV, "sim")
    # A client that outlives tests (made before, or kept) keeps its handle: reset only the
    # settings and counters then.
    sim.reset(keep_handles=bool(_process.live_clients()))
    before = _snapshot()
    yield SimController()
    gc.collect()  # finalizers of objects the test dropped run now, inside its accounting
    try:
        stats = SimController().settle()
    except TimeoutError as exc:
        pytest.fail(str(exc), pytrace=False)
    clients, sessions = _leaks(before)
    if clients or sessions:
        report = _leak_report(clients, sessions)
        _close_leaks(clients, sessions)
        SimController().settle()
        pytest.fail(report, pytrace=False)
    if stats.violations:
        pytest.fail(_violation_report(stats), pytrace=False)
