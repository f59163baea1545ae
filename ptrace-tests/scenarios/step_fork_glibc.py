"""step-fork-glibc: single-step straight through glibc fork(); the grandchild runs free.

Same checks as step-fork, with libc's fork() and a second thread alive, so
that glibc takes its locks (single-threaded it skips its atomics): on powerpc
this is the livelock of seed 000 (a lwarx/stwcx. loop in the prefork
handlers) unless atomic sequences are stepped through as a whole.
"""

from step_fork import raw_variant, utrace_variant

NAME = "step-fork-glibc"
TRACEE = "step-fork"
ARGS = ["glibc"]
TIMEOUT = 60


def run_raw(binary: str) -> None:
    raw_variant(binary, ARGS[0])


def run_utrace(binary: str) -> None:
    utrace_variant(binary, ARGS[0])
