"""The ``clinic-desk`` entry point: run the Typer app, turn every failure into one line.

Exit codes: 0 done, 1 refused by the domain, 2 bad input or usage. A bug prints one line and the
path of the log file that holds its traceback.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    import click
    import typer

    from .commands import build_app
    from .errors import ClinicError

    undecodable = _undecodable(sys.argv[1:] if argv is None else argv)
    if undecodable is not None:
        return _fail(f"an argument is not valid UTF-8 text: {undecodable!r}", 2)
    command = typer.main.get_command(build_app())
    try:
        result = command.main(args=argv, prog_name="clinic-desk", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except ClinicError as exc:
        code = _fail(exc.message, exc.exit_code)
    except click.exceptions.Abort:
        code = _fail("aborted", 1)
    except click.ClickException as exc:  # usage errors: exit 2, one line
        code = _usage_error(exc)
    except KeyboardInterrupt:
        code = _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        code = _unexpected(exc)
    if code == 0:
        _deliver_queued_mail()
    return code


def _undecodable(args: list[str]) -> str | None:
    """The first argument holding bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg
    return None


def _usage_error(exc: Exception) -> int:
    from click.exceptions import NoArgsIsHelpError

    ctx = getattr(exc, "ctx", None)
    code = getattr(exc, "exit_code", 2)
    if isinstance(exc, NoArgsIsHelpError) and ctx is not None:
        commands = ", ".join(ctx.command.list_commands(ctx)) if hasattr(ctx.command, "list_commands") else ""
        return _fail(f"missing command: {commands} (see: {ctx.command_path} --help)", 2)
    hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    return _fail(_one_line(exc.format_message()) + hint, code)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _fail(message: str, code: int) -> int:
    from .commands.common import safe

    sys.stderr.write(f"error: {safe(_one_line(message))}\n")
    return code


def _unexpected(exc: Exception) -> int:
    from .services.tx import translate

    translated = translate(exc)
    from .errors import ClinicError

    if isinstance(translated, ClinicError):
        return _fail(translated.message, translated.exit_code)
    from .logfile import log_exception

    path = log_exception(exc)
    return _fail(f"unexpected error ({type(exc).__name__}); details in {path}", 1)


def _deliver_queued_mail() -> None:
    """After a command that queued mail, try to send it now (bounded, never fails the command)."""
    from .services import notify

    if not notify.queued_in_process:
        return
    from .services import mailer

    mailer.deliver_after_commit()  # never raises: what it cannot send waits for `mail send`
