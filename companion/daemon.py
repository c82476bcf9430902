"""The daemon: wake, deliver what is due exactly once, handle buttons, signals and reloads.

`run_daemon()` is what `companion run` (and systemd) starts. The loop sleeps until
the next job (never more than 60 s), so it does not poll; after a suspend or a clock
change it notices the jump and catches up on its next wake. What was sent is decided
by the delivery table, not by memory, so a restart sends nothing twice.

The Speak button: voice check-ins plug in through a `SpeakHook`, a callable that
receives the delivery row (companion.voice_checkin.VoiceCheckins, made by
`resolve_speak_hook()` unless `[voice] checkins = "off"`). It also listens on its own
when a check-in fires in "auto" mode, and its Undo button comes back here.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import Protocol

import schedule

from . import checkins, content, session_notes
from .adapters import notify
from .adapters.notify import Backend, Notice, NotifyError
from .app import App, LogUi
from .clock import Clock
from .config import Settings, load_settings
from .editing import clear_leftovers
from .errors import CompanionError, ConfigError, StoreError
from .journal import replay_pending
from .paths import Paths, ensure_dir, read_own_text, resolve_paths, write_private_text
from .process import (
    InstanceLock,
    SystemdNotifier,
    companion_command,
    find_terminal,
    open_in_terminal,
    setup_logging,
)
from .records import Row
from .sessions import occurrences
from .store import Store, stamp
from .vocab import OPEN_STATUSES, CheckinKind, Status
from .voice_checkin import VoiceCheckins, undo
from .zones import system_zone

log = logging.getLogger("companion")

MAX_SLEEP = 60.0
RETRY_SECONDS = 15.0  # after a failure (database busy or full, no notification server)
JUMP_SECONDS = 30.0


class SpeakHook(Protocol):
    """The voice check-in as the daemon sees it (voice_checkin.VoiceCheckins)."""

    def __call__(self, row: Row) -> None:
        """Speak was pressed for the check-in `row`."""
        ...

    def offer(self) -> tuple[bool, str]:
        """Whether to show Speak, and (once) why voice cannot work here."""
        ...

    def auto(self, row: Row) -> None:
        """A check-in fired in "auto" mode: listen if voice can work."""
        ...

    def will_listen(self) -> bool:
        """Whether a check-in firing now is listened to at once (so its notice says so)."""
        ...

    def stop_listening(self, delivery_id: int) -> None:
        """Write, Snooze or Skip was pressed: stop listening to that check-in, keep nothing."""
        ...

    def warm(self) -> None:
        """A check-in offering Speak is showing: get the speech model ready."""
        ...

    def close(self, timeout: float = 1.0) -> None:
        """Stop listening (what was heard is still saved)."""
        ...


Echo = Callable[[str], None]


# ---------------------------------------------------------------- the buttons
def resolve_speak_hook(deliverer: Deliverer, *, warm_ahead: bool = True) -> SpeakHook | None:
    """The voice check-in for this daemon, unless voice check-ins are off (or a dry run).
    `warm_ahead`: load the speech model when Speak is offered (not for a single pass)."""
    if deliverer.settings.voice.checkins == "off" or deliverer.dry_run:
        return None
    return VoiceCheckins(deliverer, warm_ahead=warm_ahead)


# ---------------------------------------------------------------- one pass
@dataclass
class Deliverer:
    """Delivers what is due at a moment, exactly once, and handles button presses."""

    store: Store
    settings: Settings
    backend: Backend
    clock: Clock
    dry_run: bool = False
    terminal: list[str] | None = None
    speak: SpeakHook | None = None
    since: datetime | None = None  # when this installation started watching
    shown: set[tuple[str, str]] = field(default_factory=set)  # dry runs claim nothing
    by_notification: dict[int, int] = field(default_factory=dict)
    paths: Paths | None = None  # where entries set aside by the CLI wait (replayed here)
    # delivery id -> the kinds its notice names (a catch-up), to try showing it again
    unshown: dict[int, tuple[str, ...]] = field(default_factory=dict)
    unsaved: list[tuple[int, str, dict[str, object]]] = field(default_factory=list)
    # the latest shown only in the log (and the kinds its notice named)
    logged: dict[int, tuple[str, ...]] = field(default_factory=dict)

    # -------------------------------------------------------- what voice check-ins use
    @property
    def app(self) -> App:
        """This daemon's parts as an App (made on demand: a reload replaces the settings)."""
        return App(
            paths=self.paths or resolve_paths(),
            ui=LogUi(),
            clock=self.clock,
            backend=self.backend,
            _settings=self.settings,
            _store=self.store,
        )

    @property
    def supports_actions(self) -> bool:
        return bool(self.backend.supports_actions)

    def send(self, notice: Notice) -> int:
        """Show a notification; its id, or 0 when it could not be shown."""
        try:
            return int(self.backend.send(notice))
        except NotifyError as exc:
            log.warning("a notification could not be shown: %s", exc)
            return 0

    def show_again(self, row: Row, *, note: str, speak: bool) -> None:
        """Show the check-in `row` again (its buttons answered here), with `note` added; it
        takes the place of the notification showing it (which may say it is listening)."""
        shown = [n for n, d in self.by_notification.items() if d == int(row["id"])]
        notice = replace(self.notice(row, note=note, speak=speak), replaces=max(shown, default=0))
        nid = self.send(notice)
        if nid:
            self.by_notification[nid] = int(row["id"])
            self._warm_if_speak(notice)

    def tick(self, now: datetime) -> datetime:
        """Deliver everything due at `now`; returns when something next falls due.

        What failed before (a notice no server showed, bookkeeping the database refused)
        is tried again first; while anything is left over the next wake comes sooner.
        """
        self._catch_up_on_failures()
        wake = self._plan_and_send(now)
        if self.unshown or self.unsaved:
            return min(wake, now + timedelta(seconds=RETRY_SECONDS))
        return wake

    def _plan_and_send(self, now: datetime) -> datetime:
        plan = checkins.plan(
            self.settings,
            now=now,
            claimed=self._claimed(now),
            session_starts=session_starts(self.store, self.settings, now),
            last_entry=self._last_entry(),
            since=self.since,
        )
        for occ in plan.missed:
            self._record(occ, Status.MISSED)
        for occ in plan.covered:
            self._record(occ, Status.ANSWERED, now=now)
        if plan.show is not None:
            self._deliver(plan.show, now, named=plan.named, kept=plan.kept)
        ready, next_snooze = checkins.snoozes_due(
            self.store.deliveries(statuses=(Status.SNOOZED,)), now, self.settings
        )
        for row in ready:
            self._show_and_listen(row)
        wakes = [w for w in (plan.next_wake, next_snooze) if w is not None]
        return min(wakes) if wakes else now + timedelta(seconds=MAX_SLEEP)

    def _catch_up_on_failures(self) -> None:
        if self.paths is not None and not self.dry_run:
            replay_pending(self.store, self.paths)
        while self.unsaved:
            delivery_id, status, values = self.unsaved[0]
            self.store.set_delivery(delivery_id, status, **values)
            self.unsaved.pop(0)
            log.info("delivery %s bookkeeping written now (it had waited in memory)", delivery_id)
        for delivery_id, named in list(self.unshown.items()):
            row = self.store.delivery(delivery_id)
            if row["status"] != Status.DUE:  # answered, skipped or superseded meanwhile
                del self.unshown[delivery_id]
                continue
            log.debug("trying check-in %s again (delivery %s)", row["schedule"], delivery_id)
            self._notify(row, named=named)
        self._show_what_only_the_log_got()

    def _show_what_only_the_log_got(self) -> None:
        """A check-in that went to the log while no notification service was there (the
        daemon started before the desktop) is shown once one appears, if still unanswered."""
        if not self.logged:
            return
        self.backend.refresh()
        if self.backend.name == "log":
            return
        logged, self.logged = self.logged, {}
        for delivery_id, named in logged.items():
            row = self.store.delivery(delivery_id)
            if row["status"] == Status.NOTIFIED:
                log.info("showing check-in %s now that notifications can be shown", row["schedule"])
                self._notify(row, named=named)

    def _claimed(self, now: datetime) -> set[tuple[str, str]]:
        since = now - timedelta(hours=self.settings.checkins.missed_max_age_hours, days=2)
        rows = self.store.rows("deliveries", since=since)
        return {(r["schedule"], r["due_utc"]) for r in rows} | self.shown

    def _last_entry(self) -> datetime | None:
        latest = self.store.latest_entry_utc()
        try:
            return datetime.fromisoformat(latest.replace("Z", "+00:00")) if latest else None
        except ValueError:  # a row edited elsewhere: as if nothing was written lately
            return None

    def _record(
        self, occ: checkins.Occurrence, status: str, *, now: datetime | None = None
    ) -> None:
        """Keep a check-in that is not sent (missed, or covered by what you wrote)."""
        if self.dry_run:
            self.shown.add(occ.key)
            return
        row = self.store.claim_delivery(occ.schedule, occ.due, kind=occ.kind, status=status)
        if row is not None and now is not None:
            recent = self.store.rows("entries", since=now - timedelta(days=1))
            entry_id = recent[-1]["id"] if recent else None
            self.store.set_delivery(
                int(row["id"]), status, answered_at=stamp(now)[0], entry_id=entry_id
            )
        log.info("check-in %s due %s recorded as %s", occ.schedule, occ.due.isoformat(), status)

    def _deliver(
        self,
        occ: checkins.Occurrence,
        now: datetime,
        *,
        named: tuple[str, ...] = (),
        kept: list[checkins.Occurrence] | None = None,
    ) -> None:
        """Show `occ` (one notification that names `named`); `kept` stay open to answer."""
        if self.dry_run:
            self.shown.update(o.key for o in (occ, *(kept or ())))
            prompt = checkins.fallback_prompt(checkins.prompt_group(occ))
            preview: Row = {"id": 0, "schedule": occ.schedule, "kind": occ.kind, "prompt": prompt}
            self._notify(preview, named=named)
            return
        choice = self._prompt_for(occ, now)
        row = self.store.claim_delivery(occ.schedule, occ.due, kind=occ.kind, prompt=choice.text)
        if row is None:  # another process got there first: it is theirs to send
            return
        content.record(self.store, choice)
        keep = {int(row["id"]), *(self._keep_open(o, now) for o in kept or ())}
        self._supersede(keep)
        self._show_and_listen(row, named=named)

    def _prompt_for(self, occ: checkins.Occurrence, now: datetime) -> content.Choice:
        """The question for a check-in: once in the week after a therapist's note, a plain
        check-in asks how it has gone with that; otherwise the next from the prompt pools."""
        if occ.kind == CheckinKind.CHECKIN:
            note = session_notes.week_prompt(self.store, now)
            asked = note is not None and any(
                d.get("prompt") == note.prompt
                for d in self.store.deliveries(since=now - session_notes.PROMPT_WINDOW)
            )
            if note is not None and not asked:
                return content.Choice("prompt", f"therapist:{note.entry_id}", note.prompt)
        folder = self.paths.config_dir if self.paths is not None else None
        return checkins.choose_prompt(self.store, checkins.prompt_group(occ), folder=folder)

    def _keep_open(self, occ: checkins.Occurrence, now: datetime) -> int:
        """A check-in named in a catch-up: claimed as shown, still open to answer."""
        choice = self._prompt_for(occ, now)
        row = self.store.claim_delivery(
            occ.schedule, occ.due, kind=occ.kind, prompt=choice.text, status=Status.NOTIFIED
        )
        if row is None:
            return -1
        content.record(self.store, choice)
        self._keep(int(row["id"]), Status.NOTIFIED, notified_at=stamp(now)[0])
        return int(row["id"])

    def _supersede(self, keep: set[int]) -> None:
        """Older unanswered check-ins are let go when a new one arrives (no pile-up)."""
        for old in self.store.deliveries(statuses=OPEN_STATUSES):
            if int(old["id"]) not in keep:
                self.store.set_delivery(int(old["id"]), Status.MISSED)

    def _notify(self, row: Row, *, named: tuple[str, ...] = (), listening: bool = False) -> None:
        self.backend.refresh()  # a notification service that appeared (or came back)
        notice = self.notice(row, named=named, listening=listening)
        try:
            nid = self.backend.send(notice)
        except NotifyError as exc:
            again = int(row["id"]) in self.unshown  # said once, not at every retry
            log.log(
                logging.DEBUG if again else logging.WARNING,
                "check-in %s could not be shown: %s (it is still waiting for "
                "`companion checkin`; trying again at the next wake)",
                row["schedule"],
                exc,
            )
            if not self.dry_run:
                self.unshown[int(row["id"])] = named
            return
        if not self.dry_run:
            self.unshown.pop(int(row["id"]), None)
            if self.backend.name == "log":
                self.logged = {int(row["id"]): named}
            self.by_notification[nid] = int(row["id"])
            self._keep(int(row["id"]), Status.NOTIFIED, notified_at=stamp(self.clock.now())[0])
            self._warm_if_speak(notice)
        log.info(
            "check-in %s sent (delivery %s, %s)", row["schedule"], row["id"], self.backend.name
        )

    def _keep(self, delivery_id: int, status: str, **values: object) -> None:
        """Write a delivery's new status; if the database refuses, keep it in memory."""
        try:
            self.store.set_delivery(delivery_id, status, **values)
        except StoreError as exc:
            self.unsaved.append((delivery_id, status, values))
            log.warning(
                "delivery %s is %s, but the database refused to record it (%s); "
                "kept in memory and written at the next wake",
                delivery_id,
                status,
                exc,
            )

    def notice(
        self,
        row: Row,
        *,
        named: tuple[str, ...] = (),
        note: str = "",
        speak: bool = True,
        listening: bool = False,
    ) -> Notice:
        """The notification for a check-in; `note` is added to its text. Speak is offered
        when `speak` and voice can work (if it cannot, why is added once). `listening`: the
        microphone opens for it right away ("auto"), so it says so and offers no Speak."""
        offered = speak and not listening
        can_speak, why_not = self._voice_offer() if offered else (False, "")
        actions = self._actions(int(row["id"]), speak=can_speak)
        title, body = checkins.notice_text(
            row.get("kind") or CheckinKind.CHECKIN,
            row.get("prompt") or "",
            went_by=named,
            command_hint=not _has(actions, "write"),
            listening=listening,
        )
        extra = "\n\n".join(x for x in (note, why_not) if x)
        return Notice(title, f"{body}\n\n{extra}" if extra else body, actions)

    def _actions(self, delivery_id: int, *, speak: bool) -> tuple[tuple[str, str], ...]:
        if not self.backend.supports_actions:
            return ()
        buttons = []
        if self.terminal is not None:
            buttons.append((f"write:{delivery_id}", "Write"))
        if speak:
            buttons.append((f"speak:{delivery_id}", "Speak"))
        buttons += [(f"snooze:{delivery_id}", "Snooze"), (f"skip:{delivery_id}", "Skip")]
        return tuple(buttons)

    def handle_action(self, key: str, notification_id: int, now: datetime) -> None:
        """A button was pressed on a notification."""
        action, _, ref = key.partition(":")
        if action == "undo":
            self._undo(ref)
            return
        if action == "default":
            action, ref = "write", str(self.by_notification.get(notification_id, ""))
        if not ref.isdigit():
            return
        row = self.store.delivery(int(ref))
        if row["status"] in (Status.ANSWERED, Status.SKIPPED):
            return
        log.info("button %s pressed for delivery %s", action, ref)
        if action in ("snooze", "skip", "write"):
            self._stop_listening(int(ref))  # the person chose another way than speaking
        if action == "snooze":
            checkins.snooze(self.store, self.settings, int(ref), now)
        elif action == "skip":
            self.store.set_delivery(int(ref), Status.SKIPPED, answered_at=stamp(now)[0])
        elif action == "write" and self.terminal is not None:
            open_in_terminal(self.terminal, [*companion_command(), "checkin"])
        elif action == "speak" and self.speak is not None:
            self.speak(row)

    # -------------------------------------------------------- voice check-ins
    def _voice_offer(self) -> tuple[bool, str]:
        """Whether to show Speak, and (once) why voice cannot work here."""
        return self.speak.offer() if self.speak is not None else (False, "")

    def _show_and_listen(self, row: Row, *, named: tuple[str, ...] = ()) -> None:
        """Show a check-in that just fired. With `[voice] checkins = "auto"` (and voice able
        to work) it listens right away, and the notification says so instead of offering
        Speak or the command."""
        listening = bool(self.speak is not None and not self.dry_run and self.speak.will_listen())
        self._notify(row, named=named, listening=listening)
        if listening and self.speak is not None:
            self.speak.auto(row)

    def _warm_if_speak(self, notice: Notice) -> None:
        """Speak is on the screen: the speech model loads while the person reads."""
        if self.speak is not None and _has(notice.actions, "speak"):
            self.speak.warm()

    def _stop_listening(self, delivery_id: int) -> None:
        if self.speak is not None:
            self.speak.stop_listening(delivery_id)

    def _undo(self, ref: str) -> None:
        """Undo on a "Saved" notification: the spoken answer is deleted for real and its
        check-in is shown again (or let go when a newer one has arrived)."""
        row = undo(self.store, self.paths or resolve_paths(), ref)
        if row is not None and row["status"] == Status.NOTIFIED:
            self._notify(row)


def _has(actions: tuple[tuple[str, str], ...], name: str) -> bool:
    return any(key.startswith(f"{name}:") for key, _ in actions)


def session_starts(store: Store, settings: Settings, now: datetime) -> list[datetime]:
    """Start times of sessions whose reminders can matter now (series expanded)."""
    start, end = checkins.session_window(settings, now)
    return [
        o.starts
        for o in occurrences(store, start, end)
        if isinstance(o.starts, datetime) and o.starts.tzinfo is not None
    ]


# ---------------------------------------------------------------- the loop
class Daemon:
    """The long-running loop around a Deliverer: sleep, wake, signals, reload, watchdog."""

    def __init__(
        self,
        deliverer: Deliverer,
        *,
        config_file: Path,
        clock: Clock,
        zone: tzinfo,
        once: bool = False,
        notifier: SystemdNotifier | None = None,
    ):
        self.deliverer = deliverer
        self.config_file = config_file
        self.clock = clock
        self.zone = zone
        self.once = once
        self.notifier = notifier or SystemdNotifier()
        self.wake = threading.Event()
        self.actions: queue.Queue[tuple[str, int]] = queue.Queue()
        self.stopping = False
        self.reload_wanted = False
        self.scheduler = build_scheduler(deliverer.settings)

    # signal handlers and the button listener only set flags and wake the loop
    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        self.wake.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.reload_wanted = True
        self.wake.set()

    def _on_action(self, key: str, notification_id: int) -> None:
        self.actions.put((key, notification_id))
        self.wake.set()

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    def run(self) -> int:
        """Deliver until stopped (or once); returns the exit code."""
        if not self.once:
            self.deliverer.backend.listen(self._on_action)
        self.notifier.send("READY=1")
        log.info("companion is running (pid %s)", os.getpid())
        while not self.stopping:
            now = self.now()
            next_due = self._pass(now)
            if self.once:
                break
            self.notifier.send("WATCHDOG=1")
            self._sleep(self._sleep_seconds(now, next_due))
        self.notifier.send("STOPPING=1")
        log.info("companion stopped")
        return 0

    def now(self) -> datetime:
        return self.clock.now().astimezone(self.zone)

    def _pass(self, now: datetime) -> datetime:
        """One wake: events, then deliveries. A database that is busy or full (or any
        other CompanionError) is logged and tried again soon; the loop never dies of it,
        nor of anything unexpected, which is logged by kind and place only (its message
        could hold someone's words)."""
        try:
            self._handle_events(now)
            return self.deliverer.tick(now)
        except CompanionError as exc:
            log.warning(
                "this wake could not finish: %s companion keeps running and tries again in %.0f s.",
                _sentence(str(exc)),
                RETRY_SECONDS,
            )
        except Exception as exc:
            log.error(
                "this wake stopped at an unexpected %s (%s); companion keeps running and "
                "tries again in %.0f s.",
                type(exc).__name__,
                _where(exc),
                RETRY_SECONDS,
            )
        return now + timedelta(seconds=RETRY_SECONDS)

    def _handle_events(self, now: datetime) -> None:
        if self.reload_wanted:
            self.reload_wanted = False
            self.reload()
        self.scheduler.run_pending()
        while not self.actions.empty():
            key, nid = self.actions.get_nowait()
            try:
                self.deliverer.handle_action(key, nid, now)
            except CompanionError as exc:
                log.warning("a button press could not be handled: %s", exc)

    def _sleep_seconds(self, now: datetime, next_due: datetime) -> float:
        limits = [MAX_SLEEP, (next_due - now).total_seconds()]
        idle = self.scheduler.idle_seconds
        if idle is not None:
            limits.append(idle)
        if self.notifier.watchdog_seconds:
            limits.append(self.notifier.watchdog_seconds / 2)
        return max(0.5, min(limits))

    def _sleep(self, seconds: float) -> None:
        """Wait for the next job or an event; notice when the wall clock jumped meanwhile."""
        wall, mono = self.clock.now(), self.clock.monotonic()
        self.wake.wait(seconds)
        self.wake.clear()
        drift = (self.clock.now() - wall).total_seconds() - (self.clock.monotonic() - mono)
        if abs(drift) > JUMP_SECONDS:
            log.info("the clock moved by %+.0f s (a suspend or a time change); catching up", drift)

    def reload(self) -> None:
        """SIGHUP: read the configuration again; a bad file keeps the one in use."""
        try:
            settings = load_settings(self.config_file)
        except ConfigError as exc:
            log.error("the configuration was not reloaded, the previous one stays in use: %s", exc)
            return
        self.deliverer.settings = settings
        self.scheduler = build_scheduler(settings)
        log.info("configuration reloaded from %s", settings.source)
        self.deliverer.backend.refresh()  # and a notification service started since


def _where(exc: BaseException) -> str:
    """file:line where `exc` was raised (never its message)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def build_scheduler(settings: Settings) -> schedule.Scheduler:
    """A private `schedule.Scheduler` with a job at each configured time of day.

    The jobs only wake the loop on time; what is due (and whether it was sent) is
    decided by `checkins.plan` and the delivery table.
    """
    scheduler = schedule.Scheduler()
    times = {e.time for e in settings.checkins.schedule}
    if settings.sessions.prep_enabled:
        times.add(settings.sessions.prep_time)
    if settings.checkins.quiet_end is not None:
        times.add(settings.checkins.quiet_end)
    for at in sorted(times):
        scheduler.every().day.at(f"{at:%H:%M}").do(lambda: None)
    return scheduler


# ---------------------------------------------------------------- starting
def watching_since(paths: Paths, now: datetime, *, dry_run: bool) -> datetime:
    """When the daemon first ran for this data (kept in a small file next to the log)."""
    marker = paths.state_dir / "daemon-since"
    try:
        return datetime.fromisoformat(read_own_text(marker).strip())
    except (OSError, ValueError):
        if not dry_run:
            ensure_dir(marker.parent)
            write_private_text(marker, stamp(now)[0])
        return now


def open_notifications(settings: Settings, *, dry_run: bool, echo: Echo) -> Backend:
    """The notification backend for this run (the printer for --dry-run)."""
    if dry_run:
        return notify.PrintBackend(echo)
    return notify.daemon_backend(
        settings.notifications.backend, timeout=settings.notifications.timeout_seconds
    )


def run_daemon(
    paths: Paths,
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    once: bool = False,
    dry_run: bool = False,
    echo: Echo = print,
) -> int:
    """`companion run`: one instance, logging set up, until SIGTERM (or once)."""
    setup_logging(paths.log_file)
    clear_leftovers(paths)  # an editor's scratch copy left by a crash: overwritten, removed
    lock = InstanceLock(paths.lock_file)
    if not dry_run:
        lock.acquire()
    backend = deliverer = None
    try:
        backend = open_notifications(settings, dry_run=dry_run, echo=echo)
        deliverer = Deliverer(
            store,
            settings,
            backend,
            clock,
            dry_run=dry_run,
            since=watching_since(paths, clock.now(), dry_run=dry_run),
            terminal=find_terminal(settings),
            paths=paths,
        )
        deliverer.speak = resolve_speak_hook(deliverer, warm_ahead=not once)
        daemon = Daemon(
            deliverer, config_file=paths.config_file, clock=clock, zone=system_zone(), once=once
        )
        daemon.install_signals()
        return daemon.run()
    finally:
        if deliverer is not None and deliverer.speak is not None:
            deliverer.speak.close()  # stops listening; what was heard is still saved
        if backend is not None:
            backend.close()
        lock.release()
