"""Commands for the background daemon: `run` and `service install|uninstall|status`."""

# Lazy imports: the services each command calls, inside the command, so `companion --help`
# stays fast.

from __future__ import annotations

import click

from ..app import App
from ..records import ServiceState
from .common import emit, json_option, pass_app


@click.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the notifications instead of sending them; records nothing.",
)
@pass_app
def run_cmd(app: App, once: bool, dry_run: bool) -> None:
    """Run the check-in daemon in the foreground (what the service runs)."""
    from ..daemon import run_daemon

    code = run_daemon(
        app.paths,
        app.checked_settings(),
        app.store,
        app.clock,
        once=once,
        dry_run=dry_run,
        echo=click.echo,
    )
    if code:
        raise SystemExit(code)


@click.group("service")
def service_group() -> None:
    """The background service (a systemd user unit) that sends check-ins."""


@service_group.command("install")
@json_option
def service_install(as_json: bool) -> None:
    """Install, enable and start the service (it starts again at each login)."""
    from .. import service

    result = service.install()
    emit(
        result,
        as_json,
        lambda: click.echo(
            f"The check-in daemon is running, and will start at each login ({result['unit_file']})."
        ),
    )


@service_group.command("uninstall")
@json_option
def service_uninstall(as_json: bool) -> None:
    """Stop the service and remove it. Your data stays."""
    from .. import service

    result = service.uninstall()
    emit(
        result,
        as_json,
        lambda: click.echo(
            "The service is removed; nothing you saved was touched."
            if result["removed"]
            else "The service was not installed; nothing to remove."
        ),
    )


@service_group.command("status")
@json_option
@pass_app
def service_status(app: App, as_json: bool) -> None:
    """Show whether the service is installed, enabled and running."""
    from .. import service

    state = service.status(app.paths)
    emit(state, as_json, lambda: _print_status(state))


def _print_status(state: ServiceState) -> None:
    installed = "installed" if state["installed"] else "not installed"
    click.echo(f"unit:     {state['unit_file']} ({installed})")
    click.echo(f"enabled:  {state['enabled']}")
    click.echo(f"active:   {state['active']}")
    pid = state["running_pid"]
    click.echo(f"daemon:   running (process {pid})" if pid else "daemon:   not running")
    if not state["user_manager"]:
        from ..service import NO_USER_MANAGER

        click.echo(f"note:     {NO_USER_MANAGER}")


def register(group: click.Group) -> None:
    group.add_command(run_cmd)
    group.add_command(service_group)
