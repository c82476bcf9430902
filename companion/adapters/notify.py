"""Desktop notifications: D-Bus (with actions where the server offers them), plyer, or the log.

Each backend sends a `Notice`; the D-Bus one also reports action buttons pressed
(`listen`). Every outside call has a time limit: a missing or hanging notification
server costs at most `timeout` seconds, and the caller goes on.
jeepney (pure Python D-Bus) and plyer are imported only here, and only when used.
"""

# Lazy imports: plyer and jeepney (optional backends), only when one is used.

from __future__ import annotations

import contextlib
import html
import os
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import MissingPartError
from ..logs import get_log
from ..records import BackendCheck

log = get_log("companion.notify")

APP_NAME = "companion"
BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
ActionHandler = Callable[[str, int], None]  # (action key, notification id)
# jeepney ships no types: its routers, filters and messages are this, and stay in this module.
Jeepney = Any  # type: ignore[explicit-any]


class NotifyError(Exception):
    """A notification could not be shown (the reason is in the message)."""


@dataclass(frozen=True)
class Notice:
    """One notification: title, body and action buttons as (key, label) pairs."""

    title: str
    body: str
    actions: tuple[tuple[str, str], ...] = ()
    urgency: int = 1  # 0 low, 1 normal, 2 critical
    replaces: int = 0  # the id of a notification this one takes the place of (D-Bus)


class Backend(Protocol):
    @property
    def name(self) -> str:
        """log, print, plyer or dbus: what shows the notices now."""
        ...

    @property
    def supports_actions(self) -> bool:
        """Whether buttons can be shown (and their presses reported)."""
        ...

    def send(self, notice: Notice) -> int:
        """Show the notice; returns the server's id for it (0 when there is none)."""
        ...

    def listen(self, on_action: ActionHandler) -> None:
        """Call `on_action(key, id)` when a button is pressed (if the backend can tell)."""
        ...

    def refresh(self) -> None:
        """Look again for the notification service when the one in use is gone or is only
        a fallback (cheap when nothing changed); never raises."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------- log and print
class LogBackend:
    """Writes each notification to the log (the last resort, and for headless machines)."""

    name = "log"
    supports_actions = False

    def send(self, notice: Notice) -> int:
        log.info("notification: %s | %s", notice.title, notice.body.replace("\n", " "))
        return 0

    def listen(self, on_action: ActionHandler) -> None:
        return None

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None


class PrintBackend(LogBackend):
    """`run --dry-run`: prints what would be shown, sends nothing."""

    name = "print"

    def __init__(self, echo: Callable[[str], None]):
        self.echo = echo

    def send(self, notice: Notice) -> int:
        buttons = ", ".join(label for _, label in notice.actions) or "none"
        body = "\n".join(f"  {line}" for line in notice.body.splitlines() if line.strip())
        self.echo(f"would notify: {notice.title}\n{body}\n  buttons: {buttons}")
        return 0


# ---------------------------------------------------------------- plyer
class PlyerBackend:
    """plyer's notification facade (macOS, Windows, Linux with notify-send)."""

    name = "plyer"
    supports_actions = False

    def __init__(self, timeout: float):
        self.timeout = timeout
        from plyer import notification

        self._notification = notification

    @staticmethod
    def check() -> str | None:
        """Why plyer cannot work here, or None when it can."""
        try:
            from plyer.utils import platform
        except ImportError:
            return "plyer is not installed (pip install plyer)"
        if platform == "linux" and shutil.which("notify-send") is None:
            return "plyer needs notify-send on Linux (apt install libnotify-bin)"
        return None

    def send(self, notice: Notice) -> int:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                self._notification.notify(
                    title=notice.title[:63],
                    message=notice.body[:255],
                    app_name=APP_NAME,
                    timeout=10,
                )
            except Exception as exc:  # plyer raises whatever its platform code raises
                errors.append(exc)

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise NotifyError(f"plyer did not answer within {self.timeout:g} s")
        if errors:
            raise NotifyError(f"plyer could not show it ({type(errors[0]).__name__})")
        return 0

    def listen(self, on_action: ActionHandler) -> None:
        return None

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None


# ---------------------------------------------------------------- D-Bus
def bus_address() -> str | None:
    """The session bus address, if this process has one."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    return None


class DbusBackend:
    """org.freedesktop.Notifications over the session bus, through jeepney.

    When the bus goes away (the session ended, the bus was restarted) the receiver thread
    says so in one log line; until a new connection works, `send` raises NotifyError (so a
    check-in waits and is tried again). The next `send` or `refresh` connects again, and
    buttons are listened to again on the new connection.
    """

    name = "dbus"

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._router: Jeepney = None
        self._filter: Jeepney = None
        self._listener: threading.Thread | None = None
        self._on_action: ActionHandler | None = None
        self._lost = threading.Event()
        self.capabilities: tuple[str, ...] = ()
        self.server = ""
        self._connect()

    @property
    def supports_actions(self) -> bool:
        return "actions" in self.capabilities

    def _connect(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.bus import get_bus
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import prep_socket
        from jeepney.io.threading import DBusConnection, Proxy

        address = bus_address()
        if address is None:
            raise NotifyError("there is no D-Bus session bus")
        try:
            sock = prep_socket(get_bus(address), False, timeout=self.timeout)
            conn = DBusConnection(sock)
            self._lost.clear()
            self._router = _watched_router(conn, on_lost=self._on_lost)
            conn.unique_name = Proxy(message_bus, self._router, timeout=self.timeout).Hello()[0]
            self._addr = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)
            caps = self._call(new_method_call(self._addr, "GetCapabilities"))
            info = self._call(new_method_call(self._addr, "GetServerInformation"))
        except Exception as exc:
            self.close()
            raise NotifyError(describe_dbus_error(exc, self.timeout)) from exc
        self.capabilities = tuple(caps[0])
        self.server = f"{info[0]} {info[2]}".strip()

    def _on_lost(self, exc: BaseException) -> None:
        """In the receiver thread: the connection to the bus broke."""
        if not self._lost.is_set():
            self._lost.set()
            log.warning(
                "notifications: the D-Bus session bus went away (%s); check-ins wait "
                "and are shown once it is back",
                describe_dbus_error(exc, self.timeout),
            )
        inbox = self._filter.queue if self._filter is not None else None
        if inbox is not None:
            inbox.put(None)  # ends the button listener; a new connection starts a new one

    def _ensure_connected(self) -> None:
        """Connect again after the bus went away; NotifyError while it is still gone."""
        if self._router is not None and not self._lost.is_set():
            return
        self.close()
        self._connect()
        log.info("notifications: connected to the session bus again (%s)", self.server)
        if self._on_action is not None:
            self.listen(self._on_action)

    def _call(self, msg: Jeepney) -> tuple[Jeepney, ...]:
        from jeepney.wrappers import unwrap_msg

        reply = self._router.send_and_get_reply(msg, timeout=self.timeout)
        return tuple(unwrap_msg(reply))

    def send(self, notice: Notice) -> int:
        from jeepney import new_method_call

        self._ensure_connected()
        body = notice.body
        if "body-markup" in self.capabilities:
            body = html.escape(body, quote=False)
        actions: list[str] = []
        if self.supports_actions:
            for key, label in notice.actions:
                actions += [key, label]
        hints = {"urgency": ("y", notice.urgency), "desktop-entry": ("s", APP_NAME)}
        msg = new_method_call(
            self._addr,
            "Notify",
            "susssasa{sv}i",
            (APP_NAME, notice.replaces, "", notice.title, body, actions, hints, -1),
        )
        try:
            return int(self._call(msg)[0])
        except Exception as exc:
            raise NotifyError(describe_dbus_error(exc, self.timeout)) from exc

    def refresh(self) -> None:
        with contextlib.suppress(NotifyError):
            self._ensure_connected()

    def listen(self, on_action: ActionHandler) -> None:
        """Watch ActionInvoked signals on a thread that sleeps until one arrives."""
        from jeepney import MatchRule
        from jeepney.bus_messages import message_bus
        from jeepney.io.threading import Proxy

        self._on_action = on_action
        if self._listener is not None or not self.supports_actions or self._router is None:
            return
        rule = MatchRule(
            type="signal", interface=BUS_NAME, member="ActionInvoked", path=OBJECT_PATH
        )
        try:
            Proxy(message_bus, self._router, timeout=self.timeout).AddMatch(rule)
        except Exception as exc:
            log.warning(
                "buttons on notifications will not work: %s", describe_dbus_error(exc, self.timeout)
            )
            return
        inbox: queue.Queue[Jeepney] = queue.Queue()
        self._filter = self._router.filter(rule, queue=inbox)
        self._listener = threading.Thread(
            target=_pump, args=(inbox, on_action), name="notify-actions", daemon=True
        )
        self._listener.start()

    def close(self) -> None:
        if self._filter is not None:
            self._filter.queue.put(None)
            self._filter.close()
            self._filter = None
        self._listener = None
        if self._router is not None:
            router, self._router = self._router, None
            router.close()
            router.conn.close()


def _watched_router(conn: Jeepney, *, on_lost: Callable[[BaseException], None]) -> Jeepney:
    """jeepney's DBusRouter, whose receiver thread reports a lost bus to `on_lost` instead of
    dying with a traceback on stderr (ConnectionResetError when the bus goes away)."""
    from jeepney.io.threading import DBusRouter

    class WatchedRouter(DBusRouter):
        def _receiver(self) -> None:
            try:
                super()._receiver()  # returns when closed; waiting calls get RouterClosed
            except Exception as exc:  # a reset, a closed socket, a garbled message
                on_lost(exc)

    return WatchedRouter(conn)


def _pump(inbox: queue.Queue[Jeepney], on_action: ActionHandler) -> None:
    while True:
        msg = inbox.get()
        if msg is None:
            return
        try:
            notification_id, key = msg.body
            on_action(str(key), int(notification_id))
        except Exception:  # a bad signal or a failing handler must not end the listener
            log.exception("a notification button could not be handled")


def describe_dbus_error(exc: BaseException, timeout: float) -> str:
    """A sentence for the log and `doctor` about why D-Bus did not work."""
    name = getattr(exc, "name", "")
    if isinstance(exc, TimeoutError):
        return f"the notification service did not answer within {timeout:g} s"
    if name == "org.freedesktop.DBus.Error.ServiceUnknown":
        return "no notification service is running on the session bus"
    if (
        isinstance(exc, (FileNotFoundError, ConnectionError))
        or type(exc).__name__ == "RouterClosed"
    ):
        return "the D-Bus session bus cannot be reached"
    if isinstance(exc, NotifyError):
        return str(exc)
    return f"D-Bus failed ({type(exc).__name__}: {exc})"


# ---------------------------------------------------------------- choosing
def open_backend(name: str, *, timeout: float) -> Backend:
    """The backend called `name`; NotifyError if it cannot work here."""
    if name == "log":
        return LogBackend()
    if name == "dbus":
        return DbusBackend(timeout)
    if name == "plyer":
        reason = PlyerBackend.check()
        if reason:
            raise NotifyError(reason)
        return PlyerBackend(timeout)
    raise NotifyError(f"unknown notification backend {name!r}")


def choose_backend(name: str, *, timeout: float) -> Backend:
    """`auto` tries dbus, then plyer, then the log, and logs what it picked, once.

    A named backend that cannot work is a MissingPartError with the fix.
    """
    if name != "auto":
        try:
            return open_backend(name, timeout=timeout)
        except NotifyError as exc:
            raise MissingPartError(
                f"notifications through {name} do not work here: {exc}. "
                'Set [notifications] backend = "auto" to fall back.'
            ) from exc
    reasons = []
    for candidate in ("dbus", "plyer"):
        try:
            backend = open_backend(candidate, timeout=timeout)
        except NotifyError as exc:
            reasons.append(f"{candidate}: {exc}")
            continue
        log.info("notifications: using %s%s", candidate, _actions_note(backend))
        return backend
    log.warning("notifications: writing them to the log only (%s)", "; ".join(reasons))
    return LogBackend()


class AutoBackend:
    """`auto` for the daemon: D-Bus when a notification service is on the session bus, else
    plyer, else the log, as `choose_backend` picks.

    While on plyer or the log, `refresh()` (before each check-in, and on SIGHUP) looks for
    D-Bus again, so a notification service that starts after the daemon (common at login)
    is used from then on, buttons included. Once on D-Bus it stays there: a service or a bus
    that goes away is waited for (the check-in is tried again), never swapped for the log.
    """

    def __init__(self, timeout: float):
        self.timeout = timeout
        self._on_action: ActionHandler | None = None
        self.current: Backend = choose_backend("auto", timeout=timeout)

    @property
    def name(self) -> str:
        return self.current.name

    @property
    def supports_actions(self) -> bool:
        return self.current.supports_actions

    @property
    def server(self) -> str:
        return str(getattr(self.current, "server", ""))

    def send(self, notice: Notice) -> int:
        return self.current.send(notice)

    def listen(self, on_action: ActionHandler) -> None:
        self._on_action = on_action
        self.current.listen(on_action)

    def refresh(self) -> None:
        if self.current.name == "dbus":
            self.current.refresh()
            return
        try:
            found = DbusBackend(self.timeout)
        except NotifyError as exc:  # still none: a quiet, cheap miss
            log.debug("notifications: still no D-Bus notification service (%s)", exc)
            return
        log.info(
            "notifications: a notification service is on the session bus now; using dbus%s",
            _actions_note(found),
        )
        old, self.current = self.current, found
        old.close()
        if self._on_action is not None:
            found.listen(self._on_action)

    def close(self) -> None:
        self.current.close()


def daemon_backend(name: str, *, timeout: float) -> Backend:
    """The backend for the daemon: `auto` keeps looking for D-Bus (AutoBackend); a named
    one is opened as `choose_backend` does."""
    if name == "auto":
        return AutoBackend(timeout)
    return choose_backend(name, timeout=timeout)


def _actions_note(backend: Backend) -> str:
    if backend.name != "dbus":
        return ""
    return " (with buttons)" if backend.supports_actions else " (this server shows no buttons)"


def check(name: str, *, timeout: float) -> BackendCheck:
    """For `doctor`: which backend would be used and whether it offers buttons."""
    try:
        backend = choose_backend(name, timeout=timeout)
    except MissingPartError as exc:
        return {"ok": False, "backend": name, "actions": False, "detail": str(exc)}
    try:
        detail = getattr(backend, "server", "") or backend.name
        return {
            "ok": backend.name != "log" or name == "log",
            "backend": backend.name,
            "actions": backend.supports_actions,
            "detail": detail,
        }
    finally:
        backend.close()


def send_once(name: str, notice: Notice, *, timeout: float) -> bool:
    """Show one notice with the configured backend, for commands outside the daemon.

    Returns False (and logs why) when it could not be shown; never raises.
    """
    try:
        backend = choose_backend(name, timeout=timeout)
    except MissingPartError as exc:
        log.warning("a notification could not be shown: %s", exc)
        return False
    try:
        backend.send(notice)
        return True
    except NotifyError as exc:
        log.warning("a notification could not be shown: %s", exc)
        return False
    finally:
        backend.close()
