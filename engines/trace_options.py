"""What a ``pydbg-utrace trace`` run was asked to show: strace's options as plain data.

The command line (strace's letters, parsed elsewhere) fills one of these; the
engines that write the log, the summary and the JSON read it.  It holds no
state of a run and does no I/O, so each side can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Injection:
    """One ``-e inject=NAME:...`` rule: what to do to which calls of ``syscall``."""

    syscall: str
    error: int | None = None        # error=ENOENT: fail the call with this errno
    retval: int | None = None       # retval=N: skip the call, make it return N
    signal: int | None = None       # signal=SIG: deliver SIG at the call's entry
    delay_enter_us: int = 0         # delay_enter=US
    delay_exit_us: int = 0          # delay_exit=US (field added by the trace command's work)
    first: int = 1                  # when=FIRST[+STEP]: the first call it applies to (1-based)
    step: int = 0                   # ... and then every STEP-th (0: only FIRST)


@dataclass(frozen=True)
class TraceOptions:
    """strace's options, by meaning (the letter in each comment)."""

    follow: bool = False                    # -f
    follow_files: bool = False              # -ff (with -o: FILE.PID per process)
    string_limit: int = 32                  # -s N
    verbose: bool = False                   # -v: structures and arrays in full
    hex_strings: int = 0                    # -x: 1 non-ASCII as \x, -xx: 2 all as \x
    fd_paths: bool = False                  # -y: "3</etc/passwd>"
    syscall_times: bool = False             # -T: "<0.000012>" after the result
    result_column: int = 40                 # -a N: where "= result" starts
    instruction_pointers: bool = False      # -i: "[00007f...] " before each line
    syscall_numbers: bool = False           # -n: "[  39] " before each line
    timestamps: int = 0                     # -t 1, -tt 2 (microseconds), -ttt 3 (epoch)
    relative: bool = False                  # -r: time since the previous line
    status: str = "all"                     # -e status= / -z "successful" / -Z "failed"
    trace: frozenset[str] | None = None     # -e trace=: the names shown (None: all)
    signals: frozenset[int] | None = None   # -e signal=: the signals shown (None: all)
    quiet: int = 0                          # -q 1, -qq 2 (no exit lines)
    summary: str = ""                       # "" none, "c" only the table (-c), "C" both (-C)
    summary_wall: bool = False              # -w: the table's time is wall time
    summary_sort: str = "time"              # -S: time, calls, errors, name, avg-time, nothing
                                            #     (field added by the trace command's work)
    json: bool = False                      # --json: one object per system call
    seccomp_bpf: bool = False               # --seccomp-bpf: stop only at traced calls
    injections: tuple[Injection, ...] = ()  # -e inject=
    # (fields below added by the second wave's work on the trace command)
    paths: frozenset[str] | None = None     # -P PATH: only calls that access these paths
    read_fds: frozenset[int] | None = None  # -e read=SET: dump the data read from these fds
    write_fds: frozenset[int] | None = None  # -e write=SET: ... and written to these
    detach_on_execve: bool = False          # -b execve: let a process go when it execs
