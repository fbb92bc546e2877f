"""The peer's side in tools/hwsim-test: a device that accepts.

It keeps the peer's wpa_supplicant (B) discoverable (``P2P_LISTEN``, again after every group and
every few seconds, but never while it is in a group or forming one: a listen takes its one radio
off the group's channel) and accepts pairing: a ``P2P-GO-NEG-REQUEST`` from A is answered with
``P2P_CONNECT <A> pbc persistent`` (the user pressing the button; the group owner intent is
B's ``p2p_go_intent``, 0 from its configuration unless a test sets another). Invitations to a
stored group need nothing here: B runs with ``persistent_reconnect=1``. Every event B sees is
written to the log, with the time.

    python tools/hwsim/peer.py --ctrl RUN/ctrl-b/p2p-dev-wlan1 --log RUN/peer.log
"""

from __future__ import annotations

import argparse
import re
import time

from wpactrl import Ctrl  # beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ctrl", required=True, help="the peer's P2P device socket")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    for _ in range(300):
        try:
            events, commands = Ctrl(args.ctrl, 5.0), Ctrl(args.ctrl, 5.0)
            if commands.request("PING", 1).startswith("PONG"):
                break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        raise SystemExit(f"peer: no wpa_supplicant at {args.ctrl}")
    assert events.request("ATTACH").startswith("OK")
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 (for the life of the process)
    started = time.monotonic()

    def note(text: str) -> None:
        log.write(f"{time.monotonic() - started:9.3f} {text}\n")

    def listen() -> None:
        note(f"P2P_LISTEN -> {commands.request('P2P_LISTEN').strip()}")

    groups: set[str] = set()  # the groups the peer is in
    forming = False  # a group is being formed (negotiation or invitation accepted)
    listen()
    print("peer: ready", flush=True)
    events.s.settimeout(5.0)
    while True:
        try:
            event = events.s.recv(65536).decode(errors="replace")
        except TimeoutError:
            # Stay discoverable (a listen ends with any other P2P activity), but not while in a
            # group or forming one: a listen takes the one radio off the group's channel, and
            # the peer would miss its group owner's frames (the end of the group among them).
            if not groups and not forming:
                listen()
            continue
        note(event)
        began = re.search(r"P2P-GROUP-STARTED (\S+)", event)
        removed = re.search(r"P2P-GROUP-REMOVED (\S+)", event)
        request = re.search(r"P2P-GO-NEG-REQUEST ([0-9a-f:]{17})", event)
        if began:
            groups.add(began.group(1))
            forming = False
        elif removed:
            groups.discard(removed.group(1))
            forming = False
        elif re.search(r"P2P-INVITATION-ACCEPTED|P2P-GO-NEG-SUCCESS", event):
            forming = True
        elif re.search(r"P2P-GROUP-FORMATION-FAILURE|P2P-GO-NEG-FAILURE", event):
            forming = False
        if request:
            cmd = f"P2P_CONNECT {request.group(1)} pbc persistent"
            note(f"{cmd} -> {commands.request(cmd).strip()}")
        elif (
            not groups
            and not forming
            and re.search(r"P2P-GROUP-REMOVED|P2P-GROUP-FORMATION-FAILURE|P2P-FIND-STOPPED", event)
        ):
            listen()


if __name__ == "__main__":
    main()
