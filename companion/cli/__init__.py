"""The command line: parse, call one service function, print. Nothing else.

Commands live in modules of this package by theme; each module's `register(group)`
adds them. A module is imported only when one of its commands is run (or help lists
them all): `COMMANDS` says which module holds which command. Modules import only click
and light companion modules at import time; services are imported inside the commands.
"""
# Lazy imports: the command modules (by COMMANDS), and their services inside each command;
# logging, only with --debug.

from __future__ import annotations

import importlib
import os
import sys

import click

from .. import __version__
from ..app import App
from ..errors import CompanionError, ExitCode, MissingPartError
from .common import ClickUi

# Which module of this package registers each command (a test keeps this true).
COMMANDS = {
    **dict.fromkeys(
        ("checkin", "moment", "pattern", "phrase", "reflect", "skill", "win"), "journal"
    ),
    **dict.fromkeys(("backup", "doctor", "edit", "export", "forget", "import", "search"), "data"),
    "config": "config_cmds",
    **dict.fromkeys(("run", "service"), "daemon_cmds"),
    **dict.fromkeys(("model", "transcribe"), "voice_cmds"),
    **dict.fromkeys(("encourage", "friend-test", "help-now"), "speech_cmds"),
    **dict.fromkeys(("brief", "session", "stats", "week"), "progress_cmds"),
    **dict.fromkeys(("decrypt", "encrypt"), "security_cmds"),
}


class CompanionGroup(click.Group):
    """Loads a command's module when the command is asked for, and turns CompanionError
    into `error: ...` and its exit code, for every command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            try:
                importlib.import_module(f"{__name__}.{module}").register(self)
            except ImportError as exc:  # a broken install: say so, never hide the command
                raise MissingPartError(
                    f"companion is not installed whole ({exc}); install it again"
                ) from exc
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CompanionError as exc:
            if isinstance(ctx.obj, App) and ctx.obj.debug:
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(int(exc.exit_code))


@click.group(
    cls=CompanionGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="companion")
@click.option("--debug", is_flag=True, help="Show a traceback when something goes wrong.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """A private, offline companion for the days between therapy sessions.

    Everything stays on this computer. companion is not therapy and not an
    emergency service: if you are in danger, run `companion help-now`.
    """
    if not isinstance(ctx.obj, App):  # tests pass their own App (run_main(args, app=...))
        ctx.obj = App.from_environment(ui=ClickUi(), debug=debug)
    ctx.obj.debug = ctx.obj.debug or debug
    ctx.call_on_close(ctx.obj.close)
    _quiet_logs(ctx.obj.debug)


def _quiet_logs(debug: bool) -> None:
    """Commands speak through their output; library warnings show only with --debug
    (without it, companion.logs gives the "companion" logger a NullHandler when a line is
    first logged; the daemon sets up its own log file and stderr handlers)."""
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")


def run_main(argv: list[str] | None = None, *, app: App | None = None) -> int:
    """The one exit point: turns errors into exit codes and `error: ...` lines.

    `app`: the App to run with (tests give their own folder, clock and Ui); by default one
    is built from the environment.
    """
    os.umask(0o077)
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = main.main(args=argv, prog_name="companion", standalone_mode=False, obj=app)
    except click.exceptions.Abort:
        click.echo("Stopped. Nothing more was changed.", err=True)
        return ExitCode.USER_ERROR
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except CompanionError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
        return 130
    except Exception as exc:  # the last line of defence: never a bare traceback
        if debug:
            raise
        click.echo(
            f"error: something unexpected went wrong ({type(exc).__name__}). "
            "Nothing you saved before was lost. Run again with --debug for details.",
            err=True,
        )
        return ExitCode.USER_ERROR
    return int(code) if isinstance(code, int) else ExitCode.OK


def entry_point() -> None:
    sys.exit(run_main())
