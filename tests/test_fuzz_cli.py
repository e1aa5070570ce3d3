"""Every CLI command, fed generated arguments: exit 0, 1 or 2, one line that says why, never a
traceback, and a refused command leaves the database as it was.

The commands come from walking the real command tree (``build_app()``), so a command added later
is fuzzed too, and the test fails until each of its parameters has a strategy here. Arguments mix
plausible values (ids of the seeded rows, real dates) with hostile ones (``2027-02-30``, year 9999,
``NaN``, ``80.555``, ids past 2**63, markup, escape sequences, SQL, undecodable bytes as argv
carries them, random CSV files). Each example runs in-process against the small clinic of
``tests/hardening_support.py`` as an admin, reception, a doctor or a patient.

A refusal may record only what it exists to record (a failed login, a wrong one-time code, a
two-factor enrolment waiting for its code): those parts of the database are named per command in
``MAY_RECORD``; everything else must be byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic_desk.commands import build_app
from clinic_desk.store.db import open_database
from tests.factories import DEFAULT_PASSWORD
from tests.hardening_support import (
    ADMIN,
    DESK,
    DOCTOR,
    PATIENT_USER,
    changed_parts,
    fingerprint,
    raw_controls,
    seed_clinic,
)

EXAMPLES_PER_COMMAND = 5  # x 61 commands: about 300 runs per backend

ROOT = typer.main.get_command(build_app())


def leaf_commands(group=ROOT, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        if getattr(command, "commands", None):
            found.extend(leaf_commands(command, path + (name,)))
        else:
            found.append((path + (name,), command))
    return found


# Commands that are not fuzzed, each with the reason.
NOT_FUZZED = {
    ("tui",): "opens the full-screen TUI, which tests/tui drives with Textual's pilot",
}

# -- values ---------------------------------------------------------------------------------

# What argv can carry: anything but NUL (execve cannot pass it); bytes that are not UTF-8 arrive
# as lone surrogates (Python's surrogateescape), so those are included on purpose.
UNDECODABLE = ["caf\udce9", "\udcff\udcfe", "x\udc80"]
NASTY_TEXT = [
    "", " ", "x" * 300, "[bold red]x[/]", "[link=http://evil.test]x[/link]", "%", "_", "'", "\\", '"', ";--",
    "'; DROP TABLE app_user;--", "\" OR 1=1 --", "\x1b]0;pwned\x07", "\x1b[2J", "a\nb", "a\rb", "\t", "\u202e",
    "\x9b2J", "Zoë Ünïcødé", "李小龍", "🙂", "%s", "{0}", "{{x}}", "$(id)", "-x", "--json", "0", *UNDECODABLE,
]
plain_text = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40
)
text = st.one_of(st.sampled_from(NASTY_TEXT), plain_text)
long_text = st.one_of(text, st.text(alphabet="ab \n", min_size=1900, max_size=2100))

ids = st.one_of(
    st.integers(1, 8).map(str),
    st.sampled_from(["0", "-1", "9223372036854775807", "9223372036854775808", "99999999999999999999999",
                     "abc", "1.5", "", " 2", "1e3", "0x1f", "٣", "'; DROP TABLE app_user;--"]),
    st.integers().map(str),
)
counts = st.one_of(st.integers(-3, 300).map(str), st.sampled_from(["0", "-1", "99999999999999999999", "x", "1.5", ""]))
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2027-03-10", "2027-03-04", "today", "tomorrow", "2027-3-10", "2027/03/10", "10.03.2027", "",
                     "yesterday", "٢٠٢٧-٠٣-١٠", *UNDECODABLE]),
    # the edges, drawn as often as all the rest: impossible days, and the first and last days Python knows
    st.sampled_from(["2027-02-30", "2027-13-01", "2027-00-10", "0001-01-01", "9999-12-31", "9999-12-30",
                     "10000-01-01", "99999-01-01", "1899-12-31", "1900-01-01", "2999-12-31", "3000-01-01"]),
)
times = st.one_of(
    st.sampled_from(["09:00", "17:00", "00:00", "23:59", "24:00", "9:5", "-1:00", "99:99", "", "noon",
                     "09:00:00", "12:00 PM", "٠٩:٠٠", "02:30"]),
    st.tuples(st.integers(0, 30), st.integers(0, 70)).map(lambda hm: f"{hm[0]:02d}:{hm[1]:02d}"),
)
amounts = st.one_of(
    st.sampled_from(["80", "80.5", "80.50", "0", "0.00", "-5", "NaN", "inf", "1e3", "80.555", "9" * 30,
                     "999999999999.99", "1,50", "€80", "", " 80 ", "0.01", "100000000", "٨٠"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
emails = st.one_of(
    st.sampled_from(["new@example.test", "ann@example.test", "ADMIN1@example.test", "zoë@exämple.test", "no-at-sign",
                     "a@b", "@example.test", "x" * 300 + "@example.test", "a@b.c\nBcc: evil@example.test",
                     "[bold]x[/]@example.test", "'; DROP TABLE app_user;--@x.test", "a b@example.test", "",
                     "\x1b[2J@example.test", *UNDECODABLE]),
    text,
)
usernames = st.one_of(
    st.sampled_from([ADMIN, DESK, DOCTOR, "drhouse", PATIENT_USER, "nobody", "newuser", "x", "a" * 70,
                     "ann@example.test",
                     "dr grey", "DRGREY", " drgrey ", *UNDECODABLE]),
    text,
)
weekdays = st.one_of(
    st.sampled_from(["mon-fri", "mon,wed,fri", "fri-mon", "sun", "sat-sun", "", ",", "mon-tue-wed", "monday",
                     "xyz", "MON", "mon--fri", "-", "mon,,fri", "mon - fri"]),
    text,
)
breaks = st.one_of(
    st.sampled_from(["12:00-13:00", "13:00-12:00", "12:00", "x", "25:00-26:00", "12:00 - 13:00", "-", ""]),
    st.tuples(times, times).map("-".join),
)
cards = st.one_of(
    st.sampled_from(["4242424242424242", "4242 4242 4242 4242", "4000000000000002", "4242424242424241", "1234",
                     "", "x" * 20, "４２４２４２４２４２４２４２４２", "4242-4242-4242-4242", "0" * 19, "0" * 40]),
    st.text(alphabet="0123456789 -", max_size=25),
)
expiries = st.sampled_from(["12/30", "13/30", "01/20", "x", "00/00", "12/2030", "12/99999", "", "1/1", "12 / 30"])
methods = st.sampled_from(["wallet", "card", "cash", "", "WALLET", " card "])
ratings = st.sampled_from(["1", "3", "5", "0", "6", "9", "-1", "4.5", "NaN", "", "five", "99999999999", " 4 "])
roles = st.sampled_from(["admin", "reception", "doctor", "patient", "system", "root", "", "Admin"])
appointment_statuses = st.sampled_from(["pending", "confirmed", "cancelled", "completed", "no-show", "no_show",
                                        "", "bogus", "'; --"])
review_statuses = st.sampled_from(["pending", "approved", "rejected", "", "bogus", "%"])
mail_statuses = st.sampled_from(["pending", "sending", "sent", "failed", "", "bogus"])
floats = st.one_of(st.sampled_from(["NaN", "inf", "-inf", "3", "4.5", "1e308", "-1", "0", "x", ""]),
                   st.floats(allow_nan=True).map(str))
pay_choices = st.sampled_from(["wallet", "card", "cash", "", "Wallet"])
specialties = st.one_of(
    st.sampled_from(["Cardiology", "cardiology", "Neurology", "Dermatology", "", "%", "x" * 90]), text
)
phones = st.one_of(st.sampled_from(["+49 30 1234", "123", "", "phone", "+" + "1" * 50, "(030) 12-34/56"]), text)


@dataclass(frozen=True)
class FileSpec:
    """A file the test writes before the run (``content`` None: the path does not exist;
    "<dir>": the path is a directory; "<missing-dir>": a path inside a directory that does not exist)."""

    content: bytes | str | None


csv_headers = st.sampled_from(["doctor,date,start,end", "\ufeffdoctor,date,start,end", "date,start", "",
                               "doctor,date,start,end,extra", "DOCTOR, Date ,START,end"])
csv_row = st.one_of(
    st.tuples(st.sampled_from(["drgrey", "drhouse", "nobody", "", "drgrey'--", '"drgrey"']), dates, times, times).map(
        ",".join
    ),
    plain_text,
    st.sampled_from(['"unclosed,2027-03-10,09:00,09:30', "a\x00b,2027-03-10,09:00,09:30", ",,,", "drgrey"]),
)
csv_files = st.one_of(
    st.tuples(csv_headers, st.lists(csv_row, max_size=8)).map(lambda parts: FileSpec("\n".join([parts[0], *parts[1]]))),
    st.binary(max_size=120).map(FileSpec),
    st.sampled_from([FileSpec(b"\xff\xfe\x00d\x00o"), FileSpec(None), FileSpec("<dir>")]),
)
new_paths = st.sampled_from([FileSpec(None), FileSpec(None), FileSpec("<missing-dir>"), FileSpec("<dir>"),
                             FileSpec("already here")])
backup_files = st.one_of(
    st.binary(max_size=80).map(FileSpec),
    st.sampled_from([FileSpec(None), FileSpec("<dir>"), FileSpec(b"\x1f\x8b\x08\x00garbage")]),
)
config_files = st.sampled_from([
    FileSpec('[clinic]\nname = "Fuzz Clinic"\n'),
    FileSpec("not = [valid toml"),
    FileSpec("[smtp]\nport = 99999\n"),
    FileSpec('[clinic]\ntimezone = "Mars/Olympus"\n'),
    FileSpec("[weather]\nsunny = true\n"),
    FileSpec(b"\xff\xfe"),
    FileSpec(None),
    FileSpec("<dir>"),
])
database_urls = st.sampled_from([
    "sqlite:///", "mysql://root@localhost/clinic", "", "not a url", "postgresql://postgres@127.0.0.1:1/nowhere",
    "postgresql://fuzz:s3cret-pw@127.0.0.1:1/nowhere", "sqlite:////proc/no-such-dir/x.db",
    "sqlite:///<missing-dir>", "sqlite:///<file-as-dir>", "sqlite:///<fresh>",
])

# Every parameter name used by any command, with the values it is fuzzed with. A command whose
# parameter is missing here fails test_every_command_parameter_has_a_strategy (and its fuzz run).
BY_NAME: dict[str, st.SearchStrategy] = {
    "appointment": ids, "appointment_id": ids, "patient": ids, "patient_id": ids, "slot": ids, "slot_id": ids,
    "review_id": ids, "outbox_id": ids,
    "limit": counts, "length": counts, "hours": counts,
    "first": dates, "last": dates, "day": dates, "date_from": dates, "date_to": dates, "birth": dates, "skip": dates,
    "start": times, "end": times, "breaks": breaks, "weekdays": weekdays,
    "amount": amounts, "fee": amounts, "max_fee": amounts, "min_rating": floats,
    "name": text, "reason": long_text, "comment": long_text, "text": long_text, "bio": long_text, "note": long_text,
    "room": text, "search": text, "entity": text, "idempotency_key": text, "phone": phones,
    "email": emails, "username": usernames, "user": usernames, "doctor": usernames, "doctors": usernames,
    "actor_name": usernames,
    "specialty": specialties, "add_specialty": specialties, "remove_specialty": specialties,
    "role": roles, "method": methods, "pay": pay_choices, "card_number": cards, "card_expiry": expiries,
    "rating": ratings, "code": st.one_of(st.sampled_from(["123456", "000000", "12345", "1234567", "abcdef", "",
                                                          "12 34 56", "١٢٣٤٥٦"]), text),
    "output": new_paths,
}
BY_COMMAND: dict[tuple[tuple[str, ...], str], st.SearchStrategy] = {
    (("slots", "import"), "file"): csv_files,
    (("db", "backup"), "file"): new_paths,
    (("db", "restore"), "file"): backup_files,
    (("appointments", "list"), "status"): appointment_statuses,
    (("review", "list"), "status"): review_statuses,
    (("mail", "log"), "status"): mail_statuses,
}
# Flags that must keep one value: the demo would otherwise open the TUI.
FIXED_FLAGS = {(("demo",), "no_tui"): True}

# What a refusal of each command may record (see hardening_support.REFUSAL_AUDIT_ACTIONS).
LOGIN_FAILURE = {"audit_event.refusals", "app_user.login_state"}
MAY_RECORD: dict[tuple[str, ...], set[str]] = {
    ("login",): LOGIN_FAILURE,
    ("user", "reset-password"): {"audit_event.refusals", "one_time_code.attempts"},
    ("user", "verify-email"): {"audit_event.refusals", "one_time_code.attempts"},
    # `totp enable` stores the new secret (not in force) before it asks for the first code.
    ("user", "totp", "enable"): {"app_user.totp", "audit_event"},
    # A declined card is kept, with its audit event, as the record of the attempt.
    ("pay",): {"payment.declined", "audit_event.refusals"},
}
READS_STDIN = {("login",), ("user", "create-admin"), ("user", "add"), ("user", "reset-password"), ("doctor", "add")}
stdin_texts = st.sampled_from(["", "correct-horse-battery-staple-9\n", "short\n", "x" * 1000, "\x00\n",
                               "pässwörd-lang-genug-123\n", "\n\n", DEFAULT_PASSWORD + "\n",
                               f"{ADMIN}\n{DEFAULT_PASSWORD}\n", "ann\nwrong-password\n", "a\x00b\npw\n"])


def strategy_for(path: tuple[str, ...], param) -> st.SearchStrategy | None:
    if getattr(param, "is_flag", False) and not param.secondary_opts:
        return st.just(FIXED_FLAGS[(path, param.name)]) if (path, param.name) in FIXED_FLAGS else st.booleans()
    if getattr(param, "is_flag", False):  # --active/--inactive
        return st.sampled_from([None, True, False])
    if (path, param.name) in BY_COMMAND:
        return BY_COMMAND[(path, param.name)]
    return BY_NAME.get(param.name)


def missing_strategies() -> list[str]:
    return [
        f"{' '.join(path)} {param.name}"
        for path, command in leaf_commands()
        if path not in NOT_FUZZED
        for param in command.params
        if strategy_for(path, param) is None
    ]


@st.composite
def invocations(draw, path: tuple[str, ...], command) -> tuple[list, str, str, str]:
    """(argv with FileSpecs in it, who acts, their credentials: right, wrong-password, nobody (an unknown
    user) or none (no CLINIC_DESK_USER: `login` reads stdin), stdin)."""
    positionals: list = []
    options: list = []
    for param in command.params:
        strategy = strategy_for(path, param)
        assert strategy is not None, f"no strategy for {' '.join(path)} {param.name}: add one to BY_NAME"
        if param.param_type_name == "argument":
            if param.required or draw(st.booleans()):
                positionals.append(draw(strategy))
            continue
        if getattr(param, "is_flag", False):
            value = draw(strategy)
            if value is True:
                options.append(param.opts[0])
            elif value is False and param.secondary_opts:
                options.append(param.secondary_opts[0])
            continue
        if not (param.required or draw(st.booleans())):
            continue
        for value in draw(st.lists(strategy, min_size=1, max_size=3)) if param.multiple else [draw(strategy)]:
            options += [param.opts[0], value]
    argv = [*path, *positionals, *options]
    mutation = draw(st.sampled_from(["none"] * 8 + ["drop-one", "extra-arg", "global-option"]))
    fixed = {param.opts[0] for param in command.params if (path, param.name) in FIXED_FLAGS}
    droppable = [i for i in range(len(path), len(argv)) if argv[i] not in fixed]
    if mutation == "drop-one" and droppable:
        del argv[draw(st.sampled_from(droppable))]
    elif mutation == "extra-arg":
        argv.append(draw(st.sampled_from(["--bogus", "extra", "-", "--", "--json"])))
    elif mutation == "global-option":
        which = draw(st.sampled_from(["--database", "--config"]))
        argv = [which, draw(database_urls if which == "--database" else config_files), *argv]
    user = draw(st.sampled_from([ADMIN, ADMIN, ADMIN, PATIENT_USER, DESK, DOCTOR]))
    env = draw(st.sampled_from(["right"] * 10 + ["wrong-password", "nobody", "none"]))
    stdin = draw(stdin_texts) if path in READS_STDIN else ""
    return argv, user, env, stdin


# -- running one example ---------------------------------------------------------------------


def materialize(argv: list, tmp: Path) -> list[str]:
    """Write each FileSpec (and the placeholders in database URLs) and return plain argv."""
    out = []
    for arg in argv:
        if isinstance(arg, FileSpec):
            path = tmp / f"f-{uuid.uuid4().hex[:8]}"
            if arg.content == "<dir>":
                path.mkdir()
            elif arg.content == "<missing-dir>":
                path = path / "sub" / "x"
            elif isinstance(arg.content, bytes):
                path.write_bytes(arg.content)
            elif arg.content is not None:
                path.write_text(arg.content, encoding="utf-8", errors="surrogateescape")  # bytes as they were
            arg = str(path)
        elif isinstance(arg, str) and arg.startswith("sqlite:///<"):
            name = uuid.uuid4().hex[:8]
            if "<file-as-dir>" in arg:
                (tmp / name).write_text("a file")
                arg = f"sqlite:///{tmp / name / 'x.db'}"
            elif "<missing-dir>" in arg:
                arg = f"sqlite:///{tmp / name / 'sub' / 'x.db'}"
            else:
                arg = f"sqlite:///{tmp / name}.db"
        out.append(arg)
    return out


def asked_for_json(path: tuple[str, ...], args: list[str]) -> bool:
    """Whether ``--json`` was given as the flag (it may also be the value of ``--search``)."""
    start = next(i for i in range(len(args)) if args[i : i + len(path)] == list(path)) + len(path)
    command = dict(leaf_commands())[path]
    if not any(param.name == "as_json" for param in command.params):
        return False
    context = command.make_context(" ".join(path), args[start:], resilient_parsing=True)
    return bool(context.params.get("as_json"))


def _log_tail() -> str:
    """The end of the log file, where an unexpected error left its traceback."""
    from clinic_desk.logfile import log_path

    return log_path().read_text()[-3000:] if log_path().exists() else ""


ROW_ERROR = re.compile(r"^row \d+, column \w+: ")


def check_run(cli, database_url: str, tmp: Path, path: tuple[str, ...], argv: list, user: str, env_kind: str,
              stdin: str):
    """Run once and check every promise (AssertionError naming the command and what broke); returns the result."""
    args = materialize(argv, tmp)
    password = DEFAULT_PASSWORD if env_kind == "right" else "not-the-password"
    env = {"CLINIC_DESK_USER": "nobody" if env_kind == "nobody" else user, "CLINIC_DESK_PASSWORD": password}
    if env_kind == "none":
        env = {}
    open_database(database_url)
    before = fingerprint()
    result = cli(*args, env=env, input=stdin)
    open_database(database_url)  # a --database option may have bound the store elsewhere
    after = fingerprint()
    shown = f"clinic-desk {' '.join(map(repr, args))} as {user} ({env_kind}) -> {result.code}\n{result.err}"
    assert result.code in (0, 1, 2), shown
    assert "Traceback" not in result.out + result.err, shown
    assert "unexpected error" not in result.err, f"{shown}\n{_log_tail()}"
    assert "s3cret-pw" not in result.out + result.err, f"a password from --database was printed: {shown}"
    assert not raw_controls(result.err), f"raw control characters on stderr: {shown}"
    if path != ("user", "totp", "enable"):  # the QR code is drawn with ANSI colours on purpose
        assert not raw_controls(result.out), f"raw control characters on stdout: {shown}\n{result.out!r}"
    if result.code == 0:
        if asked_for_json(path, args) and result.out.strip():
            try:
                json.loads(result.out)
            except ValueError:
                raise AssertionError(f"--json printed what is not JSON: {shown}\n{result.out[:300]!r}") from None
        return result
    err_lines = result.err.splitlines()
    assert err_lines and err_lines[-1].startswith("error: "), shown
    for line in err_lines[:-1]:  # before the error line: warnings, and `slots import` lists its bad rows
        assert line.startswith("warning: ") or (path == ("slots", "import") and ROW_ERROR.match(line)), (
            f"more than one line on stderr: {shown}"
        )
    allowed = set(MAY_RECORD.get(path, ()))
    if env_kind in ("wrong-password", "none"):
        allowed |= LOGIN_FAILURE
    if path == ("book",) and "but payment failed" in result.err:  # booked, then the payment was refused
        allowed |= {"appointment", "audit_event", "outbox", *MAY_RECORD[("pay",)]}
    changed = changed_parts(before, after) - allowed
    assert not changed, f"refused, but changed {sorted(changed)}: {shown}"
    return result


# -- the tests -------------------------------------------------------------------------------

COMMANDS = [(path, command) for path, command in leaf_commands() if path not in NOT_FUZZED]


def test_every_command_parameter_has_a_strategy():
    assert not missing_strategies()
    assert set(NOT_FUZZED) <= {path for path, _ in leaf_commands()}, "NOT_FUZZED names a command that is gone"
    assert len(COMMANDS) >= 60


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_fuzz_command(path, command, cli, db, frozen_clock, tmp_path, monkeypatch):
    def no_tui() -> None:
        raise RuntimeError("a fuzzed command opened the TUI")

    monkeypatch.setattr("clinic_desk.commands.tui.launch", no_tui)
    state: dict[str, dict] = {}

    @settings(
        max_examples=EXAMPLES_PER_COMMAND,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(invocations(path, command))
    def run(invocation):
        open_database(db)
        if state.get("baseline") is None or fingerprint() != state["baseline"]:
            seed_clinic()
            state["baseline"] = fingerprint()
        check_run(cli, db, tmp_path, path, *invocation)

    run()


# What the fuzzer found, each kept as a plain example: (command, argv, who, exit code, part of the error).
FOUND = [
    (("appointments", "notes"), ["appointments", "notes", "9223372036854775808", "--text", "x"], 2, "not in the range"),
    (("patient", "list"), ["patient", "list", "--limit", "99999999999999999999"], 2, "not in the range"),
    (("mail", "reminders"), ["mail", "reminders", "--hours", "9999999999999"], 2, "--hours must be at most 8784"),
    (("doctor", "show"), ["doctor", "show", "x\udc80"], 2, "is not valid UTF-8 text: 'x\\udc80'"),
    (("user", "deactivate"), ["user", "deactivate", "caf\udce9"], 2, "is not valid UTF-8 text"),
    (("doctor", "edit"), ["doctor", "edit", "drgrey", "--room", "\x9b2J", "--json"], 2, "control characters"),
    (("doctor", "edit"), ["doctor", "edit", "drgrey", "--bio", "\x1b]0;pwned\x07"], 2, "control characters"),
    (("wallet", "deposit"), ["wallet", "deposit", "1", "10", "--note", "\x1b[2J"], 2, "control characters"),
    (("patient", "add"), ["patient", "add", "--name", "Zed", "--email", "z\x1b[2J@example.test"], 2,
     "not an e-mail address"),
    (("db", "status"), ["--database", "sqlite:///<file-as-dir>", "db", "status"], 2,
     "cannot create the database directory"),
    (("db", "status"), ["--database", "mysql://fuzz:s3cret-pw@db.example.test/c", "db", "status"], 2,
     "unsupported URL 'mysql://fuzz:***@db.example.test/c'"),
    (("user", "totp", "enable"), ["user", "totp", "enable", "--code", "١٢٣٤٥٦"], 2, "a two-factor code is 6 digits"),
    (("user", "reset-password"), ["user", "reset-password", "ann", "--code", "١٢٣٤٥٦", "--password-stdin"], 2,
     "a code is 6 digits"),
    (("slots", "list"), ["slots", "list", "--doctor", "drgrey", "--from", "9999-12-31"], 2,
     "--from must be between 1900-01-01 and 2999-12-31"),
    (("appointments", "list"), ["appointments", "list", "--date", "9999-12-31"], 2, "between 1900-01-01"),
    (("report", "revenue"), ["report", "revenue", "--to", "0001-01-01"], 2, "--to must be between"),
    (("export", "ics"), ["export", "ics", "--doctor", "drgrey", "--from", "0001-01-01"], 2, "--from must be between"),
    (("book",), ["book", "--patient", "2", "--slot", "2", "--pay", "card", "--card-number", "222"], 2,
     "card number must be 12 to 19 digits"),
    (("book",), ["book", "--patient", "2", "--slot", "2", "--pay", "wallet", "--card-number", "4242424242424242"], 2,
     "go with --pay card"),
    (("book",), ["book", "--patient", "4", "--slot", "-10515972624522307416013393826414592"], 2, "not in the range"),
    (("pay",), ["pay", "3", "--method", "card", "--card-number", "4000000000000002"], 1, "card declined"),
    (("slots", "import"), ["slots", "import", FileSpec("doctor,date,start,end\na\x00b,2027-03-10,09:00,09:30\n")],
     2, "NUL bytes"),
    (("slots", "generate"), ["slots", "generate", "--doctor", "drgrey", "--from", "9999-12-31", "--to", "9999-12-31",
                             "--start", "09:00", "--end", "10:00", "--length", "30"], 2, "--from must be between"),
]


@pytest.mark.parametrize(("path", "argv", "code", "message"), FOUND, ids=[" ".join(f[0]) + f" {n}" for n, f in
                                                                        enumerate(FOUND)])
def test_what_the_fuzzer_found_stays_fixed(path, argv, code, message, cli, db, frozen_clock, tmp_path):
    seed_clinic()
    result = check_run(cli, db, tmp_path, path, argv, ADMIN, "right", "Violet-Harbor-Lantern-352\n")
    assert result.code == code and message in result.err, result.err


def test_a_nul_byte_in_a_login_name_read_from_stdin_is_bad_input(cli, db, frozen_clock, tmp_path):
    seed_clinic()
    result = check_run(cli, db, tmp_path, ("login",), ["login"], ADMIN, "none", "a\x00b\npassword\n")
    assert (result.code, result.err) == (2, "error: username must not contain NUL bytes\n")
