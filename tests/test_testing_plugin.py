"""The pytest plugin (wifidirect.testing): opt-in loading, the wfd_sim fixture, its fluent API
and its verdict on contract violations. Inner test runs use pytester, in process unless the
test is about what a fresh interpreter imports."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from wifidirect import sim

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _fresh_simulator_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # An inner run may leave violations on purpose; the outer accounting starts again.
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    yield
    sim.reset()


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An in-process inner run (without hypothesis' plugin, which takes most of a second)."""
    return pytester.runpytest("-p", "no:hypothesispytest", *args)


USES_FIXTURE = """
    import wifidirect
    from wifidirect import sim

    def test_it(wfd_sim):
        # The client runs on the simulator the fixture drives: the bundled one (the backend
        # "sim"), or, in wifidirect's own Wine run, the simulator built as wlanapi.dll.
        with wifidirect.Client() as client:
            assert client.backend == "sim" or wifidirect._native.default_backend_is_simulator()
            assert sim.stats().clients == 1
"""


def test_fixture_selects_the_simulator_even_when_the_environment_says_wlanapi(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "wlanapi")  # what a Windows CI might set
    pytester.makepyfile(USES_FIXTURE)
    run(pytester, "-p", "wifidirect.testing").assert_outcomes(passed=1)


def test_fixture_starts_from_a_reset_simulator(pytester: pytest.Pytester) -> None:
    sim.add_peer("02:00:00:00:00:99", name="left over")
    sim.set_service_running(False)
    pytester.makepyfile(
        """
        import wifidirect
        from wifidirect import sim
        from wifidirect.testing import DEFAULT_PEERS

        def test_it(wfd_sim):
            assert {str(p.address): p.name for p in wfd_sim.peers} == DEFAULT_PEERS
            with wifidirect.Client() as client:   # the service runs again
                client.open_session_sync("02:00:5e:10:00:01").close()
            assert wfd_sim.stats.violations == 0
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_fluent_peer_script(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import wifidirect
        from wifidirect import sim

        A, B, C, D = (f"02:00:00:00:00:0{i}" for i in range(1, 5))

        def test_peers(wfd_sim):
            wfd_sim.clear()
            assert wfd_sim.peers == ()
            a = wfd_sim.peer(A, name="A").latency(0.01).legacy()
            assert a.state.name == "A" and a.state.latency == 0.01 and a.state.legacy
            wfd_sim.peer(B).fails("ERROR_TIMEOUT", reason=9)
            wfd_sim.peer(C).hidden()
            wfd_sim.peer(D).unpaired()
            assert [str(p.address) for p in wfd_sim.peers] == [A, B, C, D]
            with wifidirect.Client() as client:
                with client.open_session_sync(A) as session:
                    assert session.interface_guid
                with client.open_legacy_session_sync(A) as session:
                    assert session.legacy
                outcomes = {}
                for address in (B, C, D):
                    with pytest.raises(wifidirect.OpenSessionError) as info:
                        client.open_session_sync(address)
                    outcomes[address] = (info.value.winerror, info.value.reason_code)
                assert outcomes == {
                    B: (1460, 9),
                    C: (1460, sim.REASON_NOT_VISIBLE),
                    D: (1244, sim.REASON_NOT_PAIRED),
                }
                wfd_sim.peer(B).succeeds()
                wfd_sim.peer(C).visible()
                wfd_sim.peer(D).paired()
                for address in (B, C, D):
                    client.open_session_sync(address).close()
                wfd_sim.peer(A).fails(1726).remove()
                with pytest.raises(wifidirect.OpenSessionError) as info:
                    client.open_session_sync(A)
                assert info.value.winerror == 1168   # ERROR_NOT_FOUND: no such peer
            stats = wfd_sim.settle()
            assert stats.sessions == 0 and stats.clients == 0

        def test_renaming_keeps_the_configuration(wfd_sim):
            wfd_sim.peer(A).latency(0.5).unpaired()
            p = wfd_sim.peer(A, name="renamed").state
            assert (p.name, p.latency, p.paired) == ("renamed", 0.5, False)

        def test_bad_outcomes_are_refused(wfd_sim):
            with pytest.raises(ValueError, match="succeeds"):
                wfd_sim.peer(A).fails(0)
            with pytest.raises(ValueError, match="unknown error name"):
                wfd_sim.peer(A).fails("ERROR_NOPE")
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_fluent_settings(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import wifidirect

        TV = "02:00:5e:10:00:01"

        def test_settings(wfd_sim):
            assert wfd_sim.service(running=False) is wfd_sim
            with pytest.raises(wifidirect.ServiceNotActiveError):
                wifidirect.Client()  # WFDOpenHandle: the service is stopped
            wfd_sim.service(running=True)
            with wifidirect.Client() as client:
                wfd_sim.service(running=False)
                with pytest.raises(wifidirect.ServiceNotActiveError):
                    client.open_session_sync(TV)
                wfd_sim.service(running=True).policy(disabled=True)
                with pytest.raises(wifidirect.InvalidStateError):
                    client.open_session_sync(TV)
                wfd_sim.policy(disabled=False).inject_error("WFDStartOpenSession", 1722)
                with pytest.raises(wifidirect.WFDError) as info:
                    client.open_session_sync(TV)
                assert info.value.winerror == 1722
                wfd_sim.fail_allocations(1)
                with pytest.raises(wifidirect.NotEnoughMemoryError):
                    client.open_session_sync(TV)
                client.open_session_sync(TV).close()
                wfd_sim.handle_limit(1)
                with pytest.raises(wifidirect.SessionLimitError):
                    wifidirect.Client()
            assert wfd_sim.backend == "sim"
            assert "violations" in repr(wfd_sim)
        """
    )
    run(pytester).assert_outcomes(passed=1)


MAKES_A_VIOLATION = """
    from wifidirect import _native

    def test_uses_a_closed_handle(wfd_sim):
        ffi, lib = _native.simulator_lib()
        version, handle = ffi.new("DWORD *"), ffi.new("HANDLE *")
        assert lib.WFDOpenHandle(1, version, handle) == 0
        assert lib.WFDCloseHandle(handle[0]) == 0
        assert lib.WFDCloseHandle(handle[0]) == 6   # stale: a violation on Windows
"""


def test_a_contract_violation_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MAKES_A_VIOLATION)
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)  # the test body passed; its teardown failed
    result.stdout.fnmatch_lines(
        [
            "*the wifidirect simulator counted 1 contract violation(s) during this test: "
            "stale_handle=1*"
        ]
    )


def test_without_the_fixture_no_verdict_is_given(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MAKES_A_VIOLATION.replace("(wfd_sim)", "()"))
    run(pytester).assert_outcomes(passed=1)


def test_scripted_drops_retries_and_slow_calls(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Drops reach the sessions of the sim backend. (In the Wine run the default, wlanapi, reads
    # links from the system's interfaces, which the simulator DLL does not make.)
    monkeypatch.setenv("WIFIDIRECT_BACKEND", "sim")
    pytester.makepyfile(
        """
        import asyncio
        import time
        import pytest
        import wifidirect

        TV = "02:00:5e:10:00:01"

        def connect_with_retries(client, address, attempts):
            for attempt in range(1, attempts + 1):
                try:
                    return client.open_session_sync(address), attempt
                except wifidirect.OpenSessionError:
                    if attempt == attempts:
                        raise

        def test_a_peer_that_fails_twice_then_succeeds(wfd_sim):
            wfd_sim.peer(TV).fails("ERROR_TIMEOUT", reason=9, times=2)
            with wifidirect.Client() as client:
                session, attempt = connect_with_retries(client, TV, 3)
                assert attempt == 3
                session.close()
                wfd_sim.peer(TV).fails(1460, times=1)
                with pytest.raises(wifidirect.OpenSessionError):
                    client.open_session_sync(TV)
                client.open_session_sync(TV).close()  # the one failure was used up

        def test_a_drop_ends_the_session(wfd_sim):
            async def main():
                async with wifidirect.Client() as client:
                    async with await client.open_session(TV, timeout=5) as session:
                        wfd_sim.peer(TV).drop()
                        await asyncio.wait_for(session.wait_disconnected(), 5)
                        assert not session.connected
            asyncio.run(main())

        def test_a_slow_service(wfd_sim):
            wfd_sim.slow("WFDCloseSession", 0.05)
            with wifidirect.Client() as client:
                session = client.open_session_sync(TV)
                started = time.monotonic()
                session.close()
                assert time.monotonic() - started >= 0.05

        def test_bad_times(wfd_sim):
            for times in (0, -1, 1.5, True):
                with pytest.raises(ValueError, match="times"):
                    wfd_sim.peer(TV).fails(1460, times=times)
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_a_leaked_client_or_session_fails_the_test_and_is_closed(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import wifidirect
        from wifidirect import sim

        TV = "02:00:5e:10:00:01"
        HELD = []

        def test_leaks_a_client(wfd_sim):
            client = wifidirect.Client()
            HELD.append(client.open_session_sync(TV))
            HELD.append(client)

        def test_leaks_a_session_of_a_kept_client(wfd_sim):
            client = wifidirect.Client()
            wfd_sim.keep(client)
            HELD.append(client)
            HELD.append(client.open_session_sync(TV))

        def test_the_leaks_were_closed(wfd_sim):
            assert HELD[0].closed and HELD[1].closed  # the leaked client and its session
            assert HELD[3].closed and not HELD[2].closed  # the session; the kept client lives
            HELD[2].close()
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*this test left 1 wifidirect object(s) open: a wifidirect.Client (backend '*') "
            "with 1 open session(s): 02:00:5e:10:00:01. Close them*",
            "*this test left 1 wifidirect object(s) open: a wifidirect.Session to "
            "02:00:5e:10:00:01*",
        ]
    )


def test_a_process_wide_client_keeps_working_across_tests(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        import wifidirect

        pytest_plugins = ["wifidirect.testing"]

        @pytest.fixture(scope="session")
        def app_client():
            with wifidirect.Client() as client:
                yield client
        """
    )
    pytester.makepyfile(
        """
        TV = "02:00:5e:10:00:01"

        def test_first(wfd_sim, app_client):
            with app_client.open_session_sync(TV):
                pass

        def test_second(wfd_sim, app_client):
            wfd_sim.peer(TV).latency(0.01)  # settings are per test; the handle is not
            with app_client.open_session_sync(TV):
                pass
            assert wfd_sim.stats.violations == 0

        def test_third_made_first_in_a_test(wfd_sim, app_client):
            with app_client.open_session_sync(TV):
                pass
        """
    )
    run(pytester, "-p", "no:randomly").assert_outcomes(passed=3)


# --- loading: what "only when asked" means -------------------------------------------------


def test_an_unrelated_suite_is_unchanged(pytester: pytest.Pytester) -> None:
    """With the package installed (entry point auto-loaded), a suite that does not ask for the
    fixture gets no autouse fixture, no compiled module, no thread and no environment change."""
    backend = os.environ.get("WIFIDIRECT_BACKEND")  # e.g. set by cibuildwheel's test run
    pytester.makepyfile(
        f"""
        import os, sys, threading

        def test_untouched(request):
            assert request.fixturenames == ["request"]
            assert "wifidirect._wfdsim" not in sys.modules
            assert os.environ.get("WIFIDIRECT_BACKEND") == {backend!r}
            assert not [t for t in threading.enumerate() if "wifidirect" in t.name]
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins:*wifidirect-*"])  # the only trace: the header


def test_opt_out_with_dash_p_no(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(USES_FIXTURE)
    result = run(pytester, "-p", "no:wifidirect.testing")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'wfd_sim' not found*"])


@pytest.mark.parametrize(
    ("how", "outcome"),
    [
        ("nothing", "errors"),
        ("-p", "passed"),
        ("pytest_plugins", "passed"),
        ("fixture import", "passed"),
    ],
)
@pytest.mark.parametrize("autoload", [True, False])
def test_ways_to_ask_for_the_plugin(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    outcome: str,
    autoload: bool,
) -> None:
    if not autoload:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    elif how == "nothing":
        outcome = "passed"  # the entry point makes the fixture available
    pytester.makepyfile(USES_FIXTURE)
    args: list[str] = []
    if how == "-p":
        args = ["-p", "wifidirect.testing"]
    elif how == "pytest_plugins":
        pytester.makeconftest('pytest_plugins = ["wifidirect.testing"]')
    elif how == "fixture import":
        pytester.makeconftest("from wifidirect.testing import wfd_sim  # noqa: F401")
    run(pytester, *args).assert_outcomes(**{outcome: 1})


# --- the README's example ----------------------------------------------------------------------


def test_the_readme_examples_pass(pytester: pytest.Pytester) -> None:
    """The plugin's code in the README (the scripting test and the example application's
    excerpt) runs as written, against examples/connector/connector.py."""
    root = Path(__file__).resolve().parents[1]
    readme, app = root / "README.md", root / "examples" / "connector" / "connector.py"
    if not (readme.exists() and app.exists()):
        pytest.skip("README.md and examples/ are not beside the tests")
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    tests = [
        b for b in blocks if b.startswith(("def test_scripting", "# examples/connector/test_"))
    ]
    assert len(tests) == 2
    pytester.makepyfile(test_readme="\n\n".join(tests), connector=app.read_text(encoding="utf-8"))
    pytester.makeconftest('pytest_plugins = ["wifidirect.testing"]')
    run(pytester).assert_outcomes(passed=4)
