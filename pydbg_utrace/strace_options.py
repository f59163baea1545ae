"""strace's command line, parsed into plain data: ``pydbg-utrace trace`` takes strace's options.

Pure: no process is started and no file opened here.  :func:`parse` turns
the words after ``trace`` into a :class:`TraceRequest` (the engines' shared
:class:`TraceOptions` plus where to write and what to trace) or raises
:class:`UsageError` whose message is one strace-like line.

Syscall names, ``/REGEX`` and ``%CLASS`` are resolved against one arch's
table (the host's unless the caller says otherwise): strace resolves them
against its personality too, before the program runs.
"""

from __future__ import annotations

import errno as errno_names
import getopt
import re
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from pydbg_utrace import arch as arches
from pydbg_utrace.engines.decode.multiplexed import carriers_of
from pydbg_utrace.engines.path_trace import path_set
from pydbg_utrace.engines.syscall_classes import CLASSES
from pydbg_utrace.engines.trace_options import Injection, TraceOptions


class UsageError(ValueError):
    """A bad command line; ``str()`` is the one line to print after ``pydbg-utrace: ``."""


class HelpRequested(UsageError):
    """``-h``: the usage is the answer (on stdout, exit status 0, as strace does)."""


USAGE = """\
usage: pydbg-utrace trace [strace's options] {-p PID[,PID] | [--] PROG [ARGS]}
  -f -ff -o FILE -p PID -e trace=NAMES|/REGEX|%CLASS (! negates) -e signal=SET
  -e status=successful|failed
  -e inject=NAME:error=E|retval=N|signal=S|delay_enter=US|delay_exit=US[:when=N+S]
  -z -Z -s N -v -x -xx -y -T -t -tt -ttt -r -i -n -a COLUMN -c -C -w -S SORTBY -q -qq
  -b execve -P PATH -e read=FDS -e write=FDS -E VAR=VAL -E VAR --json --seccomp-bpf
Same letters and meaning as strace(1); what differs: docs/trace.md."""


@dataclass(frozen=True)
class TraceRequest:
    """One ``trace`` run: what to show (``options``), where, and whom."""

    options: TraceOptions
    output: str | None = None               # -o FILE (with -ff: FILE.PID)
    append: bool = False                    # -A: open -o's files to append
    pids: tuple[int, ...] = ()              # -p PID[,PID...] (repeatable)
    command: tuple[str, ...] = ()           # PROG ARGS
    warnings: tuple[str, ...] = field(default=())  # strace's non-fatal complaints
    env: tuple[tuple[str, str | None], ...] = ()  # -E VAR=VAL / -E VAR (None: unset), in order

    def environment(self, base: dict[str, str]) -> dict[str, str] | None:
        """The launched program's environment: ``base`` changed by ``-E`` (None: no -E)."""
        if not self.env:
            return None
        env = dict(base)
        for name, value in self.env:
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    @property
    def interactive(self) -> bool:
        """Do SIGHUP, SIGINT, SIGQUIT, SIGPIPE and SIGTERM end the trace?  strace's default
        ``-I``: yes, unless ``-o FILE`` with a command (then they are ignored, and the
        program is traced to its end)."""
        return bool(self.pids) or self.output is None

    @property
    def notices(self) -> bool:
        """The "Process N attached/detached" lines on stderr: unless ``-q``, which
        ``-o FILE`` with a command implies (strace's rule)."""
        return self.options.quiet == 0 and self.interactive


# strace 6.1's letters (getopt string "+a:Ab:cCdDe:E:fFhiI:kno:O:p:P:qrs:S:tTu:U:vVwxX:yzZ").
SHORT = "a:Ab:cCdDe:E:fFhiI:kno:O:p:P:qrs:S:tTu:U:vVwxX:yzZ"
LONG = [
    "trace=", "signal=", "signals=", "status=", "inject=", "fault=", "output=",
    "output-separately", "follow-forks", "attach=", "summary-only", "summary",
    "summary-wall-clock", "string-limit=", "quiet", "successful-only", "failed-only",
    "syscall-times", "absolute-timestamps", "relative-timestamps", "decode-fds",
    "no-abbrev", "seccomp-bpf", "json", "help", "summary-sort-by=", "columns=",
    "instruction-pointer", "syscall-number", "trace-path=", "read=", "write=", "env=",
    "detach-on=",
]
#: -S's words (strace's spellings) -> the summary's sort key
SORT_KEYS = {
    "time": "time", "time-percent": "time", "time_percent": "time", "time-total": "time",
    "time_total": "time", "total-time": "time", "total_time": "time",
    "calls": "calls", "count": "calls", "errors": "errors", "error": "errors",
    "name": "name", "syscall": "name", "syscall-name": "name", "syscall_name": "name",
    "avg-time": "avg-time", "avg_time": "avg-time", "time-avg": "avg-time",
    "time_avg": "avg-time", "nothing": "nothing", "none": "nothing",
}
#: strace letters we know but do not do (yet): a clear "not supported", not "invalid".
UNSUPPORTED = {
    "-d": "strace's debug output", "-D": "a detached tracer",
    "-F": "the obsolete -F", "-I": "signal blocking modes",
    "-k": "stack traces", "-O": "overhead adjustment",
    "-u": "running as another user",
    "-U": "summary columns", "-V": "strace's version", "-X": "the constant format",
}
QUALIFIERS = {
    "trace": "trace", "t": "trace", "signal": "signal", "signals": "signal", "s": "signal",
    "status": "status", "inject": "inject", "fault": "fault",
    "read": "read", "reads": "read", "r": "read", "write": "write", "writes": "write",
    "w": "write",
}
STATUSES = ("successful", "failed")


def parse(argv: Sequence[str], arch_name: str | None = None) -> TraceRequest:
    """The request that ``pydbg-utrace trace ARGV`` makes, or :class:`UsageError`."""
    arch = arches.by_name(arch_name) if arch_name else arches.host()
    try:
        opts, command = getopt.getopt(list(argv), SHORT, LONG)
    except getopt.GetoptError as exc:
        raise UsageError(_getopt_message(exc)) from None
    state = _State(arch)
    for opt, value in opts:
        state.take(opt, value)
    return state.finish(command)


def _getopt_message(exc: getopt.GetoptError) -> str:
    opt = exc.opt
    if "requires argument" in exc.msg:
        return f"option requires an argument -- '{opt}'" if len(opt) == 1 else \
            f"option '--{opt}' requires an argument"
    if len(opt) == 1:
        return f"invalid option -- '{opt}'"
    return f"unrecognized option '--{opt}'"


class _State:
    """The options seen so far, with strace's rules for repeats and conflicts."""

    def __init__(self, arch: arches.Arch) -> None:
        self.arch = arch
        self.options = TraceOptions()
        self.follow = 0
        self.output: str | None = None
        self.append = False
        self.pids: list[int] = []
        self.timestamps = 0
        self.hex = 0
        self.quiet = 0
        self.summary = ""
        self.trace: frozenset[str] | None = None
        self.signals: frozenset[int] | None = None
        self.injections: list[Injection] = []
        self.paths: list[str] = []
        self.env: list[tuple[str, str | None]] = []
        self.warnings: list[str] = []

    def set(self, **changes) -> None:
        self.options = replace(self.options, **changes)

    def take(self, opt: str, value: str) -> None:  # noqa: C901 (one branch per letter)
        if opt in UNSUPPORTED:
            raise UsageError(f"option {opt} ({UNSUPPORTED[opt]}) is not supported "
                             "by pydbg-utrace")
        if opt in ("-f", "--follow-forks"):
            self.follow += 1
        elif opt == "--output-separately":
            self.follow = max(self.follow, 1) + 1
        elif opt in ("-o", "--output"):
            if value.startswith("|") or value.startswith("!"):
                raise UsageError("-o |COMMAND (a pipe) is not supported by pydbg-utrace")
            self.output = value
        elif opt == "-A":
            self.append = True
        elif opt in ("-p", "--attach"):
            self.pids.extend(_pids(value))
        elif opt in ("-P", "--trace-path"):
            self.paths.append(value)
        elif opt in ("-b", "--detach-on"):
            if value != "execve":
                raise UsageError(f"Syscall '{value}' for -b isn't supported")
            self.set(detach_on_execve=True)
        elif opt in ("-E", "--env"):
            name, sep, text = value.partition("=")
            self.env.append((name, text if sep else None))
        elif opt in ("-e",):
            self.qualifier(value)
        elif opt.startswith("--") and opt[2:] in QUALIFIERS:
            self.qualifier(f"{opt[2:]}={value}")
        elif opt in ("-c", "--summary-only"):
            self.summary_mode("c")
        elif opt in ("-C", "--summary"):
            self.summary_mode("C")
        elif opt in ("-w", "--summary-wall-clock"):
            self.set(summary_wall=True)
        elif opt in ("-S", "--summary-sort-by"):
            if value not in SORT_KEYS:
                raise UsageError(f"invalid sortby: '{value}'")
            self.set(summary_sort=SORT_KEYS[value])
        elif opt in ("-s", "--string-limit"):
            self.set(string_limit=_number(value, "-s", low=0))
        elif opt in ("-v", "--no-abbrev"):
            self.set(verbose=True)
        elif opt == "-x":
            self.hex += 1
        elif opt in ("-y", "--decode-fds"):
            self.set(fd_paths=True)
        elif opt in ("-T", "--syscall-times"):
            self.set(syscall_times=True)
        elif opt in ("-a", "--columns"):
            self.set(result_column=_number(value, "-a", low=0))
        elif opt in ("-i", "--instruction-pointer"):
            self.set(instruction_pointers=True)
        elif opt in ("-n", "--syscall-number"):
            self.set(syscall_numbers=True)
        elif opt == "-t":
            self.timestamps += 1
        elif opt == "--absolute-timestamps":
            self.timestamps = max(self.timestamps, 1)
        elif opt in ("-r", "--relative-timestamps"):
            self.set(relative=True)
        elif opt in ("-q", "--quiet"):
            self.quiet += 1
        elif opt in ("-z", "--successful-only"):
            self.set(status="successful")
        elif opt in ("-Z", "--failed-only"):
            self.set(status="failed")
        elif opt == "--seccomp-bpf":
            self.set(seccomp_bpf=True)
        elif opt == "--json":
            self.set(json=True)
        elif opt in ("-h", "--help"):
            raise HelpRequested(USAGE)

    def summary_mode(self, letter: str) -> None:
        if self.summary and self.summary != letter:
            raise UsageError("-c/--summary-only and -C/--summary are mutually exclusive")
        self.summary = letter

    def qualifier(self, text: str) -> None:
        name, sep, value = text.partition("=")
        if not sep:  # "-e open,close" is "-e trace=open,close"
            name, value = "trace", text
        kind = QUALIFIERS.get(name)
        if kind is None:
            raise UsageError(f"invalid -e qualifier '{name}' (pydbg-utrace knows "
                             "trace, signal, status, inject, fault, read and write)")
        if kind == "trace":
            self.trace = _combine(self.trace, _syscall_set(value, self.arch), self.arch)
        elif kind == "signal":
            self.signals = _signal_set(value)
        elif kind == "status":
            self.set(status=_status(value))
        elif kind == "read":
            self.set(read_fds=_fd_set(value))
        elif kind == "write":
            self.set(write_fds=_fd_set(value))
        else:
            self.injections.extend(_injections(value, self.arch, fault=kind == "fault"))

    def finish(self, command: list[str]) -> TraceRequest:
        if self.summary and self.follow >= 2:
            raise UsageError("(-c/--summary-only or -C/--summary) and -ff/--output-separately "
                             "are mutually exclusive")
        if self.options.summary_wall and not self.summary:
            self.warnings.append("-w/--summary-wall-clock has no effect without "
                                 "-c/--summary-only or -C/--summary")
        if not command and not self.pids:
            raise UsageError("must have PROG [ARGS] or -p PID")
        if command and self.pids:
            raise UsageError("PROG and -p PID at once are not supported by pydbg-utrace: "
                             "give one")
        if self.options.seccomp_bpf:
            if self.pids:
                self.warnings.append("--seccomp-bpf is not enabled for processes attached "
                                     "with -p")
                self.set(seccomp_bpf=False)
            elif not self.follow:
                self.warnings.append("--seccomp-bpf cannot be used without -f/--follow-forks, "
                                     "disabling")
                self.set(seccomp_bpf=False)
        if self.paths:
            paths, notes = path_set(self.paths)
            self.warnings.extend(notes)
            self.set(paths=paths)
        self.set(
            follow=self.follow >= 1,
            follow_files=self.follow >= 2 and self.output is not None,
            timestamps=min(self.timestamps, 3), hex_strings=min(self.hex, 2),
            quiet=min(self.quiet, 2), summary=self.summary, trace=self.trace,
            signals=self.signals, injections=tuple(self.injections))
        return TraceRequest(self.options, self.output, self.append, tuple(self.pids),
                            tuple(command), tuple(self.warnings), tuple(self.env))


# -- the pieces ------------------------------------------------------------------------
def _pids(text: str) -> list[int]:
    pids = []
    for word in re.split(r"[,\s]+", text.strip()):
        if not word.isdigit() or int(word) <= 0:
            raise UsageError(f"Invalid process id: '{word}'")
        pids.append(int(word))
    return pids


def _number(text: str, opt: str, low: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise UsageError(f"invalid {opt} argument: '{text}'")
    return value


def class_names(arch: arches.Arch) -> dict[str, frozenset[str]]:
    """strace's ``%CLASS`` sets for ``arch`` (generated from strace's tables)."""
    key = "ppc64" if arch.name.startswith("ppc64") else arch.name
    try:
        return CLASSES[key]
    except KeyError:
        raise UsageError(f"no syscall classes for {arch.name}") from None


def known_names(arch: arches.Arch) -> frozenset[str]:
    """Every name a ``-e trace=`` list may use: the arch's table and strace's classes."""
    classes = class_names(arch)
    return frozenset(arch.syscall_names.values()).union(*classes.values())


def _syscall_set(text: str, arch: arches.Arch) -> tuple[bool, frozenset[str]]:
    """``(negated, names)`` of one ``trace=`` value."""
    negated = text.startswith("!")
    text = text[1:] if negated else text
    known = known_names(arch)
    names: set[str] = set()
    for word in text.split(","):
        names |= _syscall_word(word, arch, known)
    return negated, frozenset(names)


def _syscall_word(word: str, arch: arches.Arch, known: frozenset[str]) -> frozenset[str]:
    optional = word.startswith("?")  # strace: "?name" is no error if the arch lacks it
    word = word[1:] if optional else word
    if word == "all":
        return known
    if word == "none":
        return frozenset()
    if word.startswith("/"):
        try:
            pattern = re.compile(word[1:])
        except re.error as exc:
            raise UsageError(f"regcomp: {word[1:]}: {exc}") from None
        found = frozenset(n for n in known if pattern.search(n))
        if not found and not optional:
            raise UsageError(f"invalid system call '{word}'")
        return found
    if word.startswith("%"):
        classes = class_names(arch)
        cls = word[1:]
        if cls not in classes:
            raise UsageError(f"invalid system call '{word}'")
        return classes[cls]
    if word in known:
        return frozenset({word})
    if optional:
        return frozenset()
    raise UsageError(f"invalid system call '{word}'")


def _combine(before: frozenset[str] | None, new: tuple[bool, frozenset[str]],
             arch: arches.Arch) -> frozenset[str]:
    """strace: each ``trace=`` replaces the set; ``!`` means everything but."""
    del before  # a later -e trace= wins, as in strace
    negated, names = new
    return known_names(arch) - names if negated else names


def signal_number(word: str) -> int | None:
    """``SIGTERM``, ``TERM`` or ``15`` -> 15; ``None`` if no such signal."""
    if word.isdigit():
        number = int(word)
        return number if 0 < number < signal.NSIG else None
    name = word.upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    value = getattr(signal, name, None)
    return int(value) if isinstance(value, signal.Signals) else None


def _signal_set(text: str) -> frozenset[int] | None:
    negated = text.startswith("!")
    text = text[1:] if negated else text
    every = frozenset(range(1, signal.NSIG))
    chosen: set[int] = set()
    for word in text.split(","):
        if word == "all":
            chosen |= every
        elif word == "none":
            continue
        else:
            number = signal_number(word)
            if number is None:
                raise UsageError(f"invalid signal '{word}'")
            chosen.add(number)
    result = every - chosen if negated else frozenset(chosen)
    return None if result == every else result


def _fd_set(text: str) -> frozenset[int] | None:
    """``-e read=3,5``, ``!1``, ``all``, ``none``: strace's descriptor set (None: none).

    strace's rules: ``all`` and ``none`` only alone; empty words are skipped, but
    at least one is needed; a word is a decimal int (``+3`` and `` 3`` too).
    """
    negated = text.startswith("!")
    body = text[1:] if negated else text
    if body in ("all", "none"):
        every = body == "all"
        chosen: set[int] = set()
    else:
        every = False
        words = [word for word in body.split(",") if word]
        if not words:
            raise UsageError(f"invalid descriptor '{text}'")
        chosen = set()
        for word in words:
            if not re.fullmatch(r"\s*\+?[0-9]+", word) or int(word) >= 2**31:
                raise UsageError(f"invalid descriptor '{word}'")
            chosen.add(int(word))
    if every != negated:  # all, or !N: every fd but those named
        return _AllFdsBut(chosen)
    return frozenset(chosen) or None


class _AllFdsBut(frozenset):
    """``-e read=all`` or ``!3``: every descriptor except those it holds."""

    def __contains__(self, fd: object) -> bool:
        return not frozenset.__contains__(self, fd)


def _status(text: str) -> str:
    words = set(text.split(","))
    if words == {"all"} or words == {"successful", "failed"}:
        return "all"
    if len(words) == 1 and text in STATUSES:
        return text
    known = {"successful", "failed", "unfinished", "unavailable", "detached", "all", "none"}
    if words <= known:
        raise UsageError(f"status '{text}' is not supported by pydbg-utrace "
                         "(successful, failed or all)")
    raise UsageError(f"invalid status '{text}'")


def errno_number(word: str) -> int | None:
    """``ENOENT`` or ``2`` -> 2; ``None`` if no such errno."""
    if word.isdigit():
        number = int(word)
        return number if 0 < number < 4096 else None
    value = getattr(errno_names, word.upper(), None)
    return value if isinstance(value, int) else None


def _injections(text: str, arch: arches.Arch, fault: bool) -> list[Injection]:
    """``NAMES:error=E:retval=N:signal=S:delay_enter=US:delay_exit=US:when=N+S``, per name."""
    bad = UsageError(f"invalid {'fault' if fault else 'inject'} argument '{text}'")
    names_text, _, rest = text.partition(":")
    negated, names = _syscall_set(names_text, arch)
    if negated:
        names = known_names(arch) - names
    fields: dict[str, object] = {}
    for part in rest.split(":") if rest else []:
        key, sep, value = part.partition("=")
        if not sep:
            raise bad
        try:
            fields.update(_injection_field(key, value))
        except (KeyError, ValueError):
            raise bad from None
    if fault and "error" not in fields and "retval" not in fields:
        fields["error"] = errno_names.ENOSYS
    if "error" in fields and "retval" in fields:
        raise bad
    if not ({"error", "retval", "signal", "delay_enter_us", "delay_exit_us"} & fields.keys()):
        raise bad
    fields.setdefault("first", 1)
    fields.setdefault("step", 1)  # strace: without when=, every call (1+)
    return [Injection(syscall=name, **fields) for name in sorted(names)]  # type: ignore[arg-type]


def _injection_field(key: str, value: str) -> dict[str, object]:
    if key == "error":
        number = errno_number(value)
        if number is None:
            raise ValueError(value)
        return {"error": number}
    if key == "retval":
        return {"retval": int(value, 0)}
    if key == "signal":
        number = signal_number(value)
        if number is None:
            raise ValueError(value)
        return {"signal": number}
    if key in ("delay_enter", "delay_exit"):
        delay = int(value)
        if delay < 0:
            raise ValueError(value)
        return {f"{key}_us": delay}
    if key == "when":
        return _when(value)
    raise KeyError(key)


def _when(text: str) -> dict[str, object]:
    """``N`` (only the Nth), ``N+`` (Nth and after), ``N+S`` (Nth, then every Sth)."""
    first_text, plus, step_text = text.partition("+")
    first = int(first_text)
    step = (int(step_text) if step_text else 1) if plus else 0
    if first < 1 or first > 65535 or (plus and step < 1):
        raise ValueError(text)
    return {"first": first, "step": step}


def traced_numbers(options: TraceOptions, arch: arches.Arch) -> frozenset[int] | None:
    """The syscall numbers a run stops at (``None``: all): what ``--seccomp-bpf`` filters on.

    Injected calls count: the injector must see them even if the log hides them.
    """
    if options.trace is None:
        return None
    wanted: Iterable[str] = options.trace | {i.syscall for i in options.injections}
    numbers = set()
    for name in wanted:
        try:
            numbers.add(arch.syscall_number_of(name))
        except KeyError:
            continue  # a name strace knows and this arch's table lacks
    for carrier in carriers_of(wanted):  # s390x's glibc connects through socketcall, say
        try:
            numbers.add(arch.syscall_number_of(carrier))
        except KeyError:
            continue  # x86_64 has neither socketcall nor ipc
    return frozenset(numbers)
