"""A small org.freedesktop.Notifications server for the tests, on a real session bus.

    python tests/dbus_notify_server.py RECORD.jsonl [--no-actions] [--hang]

Records every Notify call as one JSON line in RECORD.jsonl, answers GetCapabilities
(with or without "actions") and GetServerInformation. `--hang` never answers Notify
(a stuck server). A test presses a button by calling the extra method
`org.companion.Test.Invoke(key)`, which emits ActionInvoked for the last notification.
Prints "ready" on stdout once it owns the name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
TEST_IFACE = "org.companion.Test"


class Server:
    def __init__(self, record: Path, *, actions: bool, hang: bool):
        self.record, self.actions, self.hang = record, actions, hang
        self.last_id = 0
        self.conn = open_dbus_connection(bus="SESSION")
        self.emitter = DBusAddress(PATH, interface=NAME)

    def start(self) -> None:
        bus = Proxy(message_bus, self.conn)
        if bus.RequestName(NAME, 4)[0] != 1:
            raise SystemExit("could not own the notification name")
        print("ready", flush=True)
        while True:
            msg = self.conn.receive()
            if msg.header.message_type == MessageType.method_call:
                self.handle(msg)

    def handle(self, msg: Any) -> None:
        member = msg.header.fields.get(HeaderFields.member)
        reply = getattr(self, f"on_{member}", None)
        if reply is None:
            self.conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))
            return
        reply(msg)

    def on_GetCapabilities(self, msg: Any) -> None:  # noqa: N802 (D-Bus names)
        caps = ["body", "persistence"] + (["actions"] if self.actions else [])
        self.conn.send(new_method_return(msg, "as", (caps,)))

    def on_GetServerInformation(self, msg: Any) -> None:  # noqa: N802
        self.conn.send(new_method_return(msg, "ssss", ("test-notify", "companion", "1", "1.2")))

    def on_Notify(self, msg: Any) -> None:  # noqa: N802
        app, replaces, icon, summary, body, actions, hints, expire = msg.body
        nid = replaces or self.last_id + 1  # a replaced notification keeps its id
        self.last_id = max(self.last_id, nid)
        entry = {
            "id": nid,
            "replaces": replaces,
            "app": app,
            "summary": summary,
            "body": body,
            "actions": list(actions),
            "hints": {k: v[1] for k, v in hints.items()},
        }
        with self.record.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        if not self.hang:
            self.conn.send(new_method_return(msg, "u", (nid,)))

    def on_CloseNotification(self, msg: Any) -> None:  # noqa: N802
        self.conn.send(new_method_return(msg))

    def on_Invoke(self, msg: Any) -> None:  # noqa: N802 (the test's own button press)
        (key,) = msg.body
        self.conn.send(new_signal(self.emitter, "ActionInvoked", "us", (self.last_id, key)))
        self.conn.send(new_method_return(msg))


# ---------------------------------------------------------------- helpers for the tests
def start_bus(address: str | None = None) -> tuple[str, int]:
    """A private session bus: (address, pid). Stop it with os.kill(pid, SIGTERM).

    With `address` (unix:path=...) it listens there: a bus can be stopped and started
    again at the same place, as when a session's bus is restarted.
    """
    where = [f"--address={address}"] if address else []
    out = subprocess.run(
        ["dbus-daemon", "--session", "--print-address=1", "--print-pid=1", "--fork", *where],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    address, pid = out.stdout.split()[:2]
    return address, int(pid)


def start_server(address: str, record: Path, *flags: str) -> subprocess.Popen[str]:
    """This server on the bus at `address`, ready when this returns."""
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
    proc = subprocess.Popen(
        [sys.executable, __file__, str(record), *flags], env=env, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise RuntimeError("the test notification server did not start")
    return proc


def press(address: str, key: str) -> None:
    """Press the button `key` on the last notification (emits ActionInvoked)."""
    from jeepney import new_method_call
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(address) as conn:
        target = DBusAddress(PATH, bus_name=NAME, interface=TEST_IFACE)
        conn.send_and_get_reply(new_method_call(target, "Invoke", "s", (key,)), timeout=5)


def calls(record: Path) -> list[dict[str, Any]]:
    """The Notify calls recorded so far."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


def main(argv: list[str]) -> None:
    record = Path(argv[0])
    Server(record, actions="--no-actions" not in argv, hang="--hang" in argv).start()


if __name__ == "__main__":
    main(sys.argv[1:])
