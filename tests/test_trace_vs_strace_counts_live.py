"""``trace -f`` against ``strace -f`` (issue 14): the same system calls, counted per task.

Each program runs under ``strace -f -ff -qq -o`` and under ``pydbg-utrace
trace -f --json -o``; the tasks are matched by their place in the process
tree (tests/tracecounts.py) and every call name must be counted the same in
every task, and the exit status must be the same.  Normalised: the state a
first run leaves behind (outputs removed, git's index refreshed before either
run, the file's times in the past so that git finds no "racily clean"
entry), so that each run starts from the same files; and, in
tests/tracecounts.py, what is a race or a dice roll under any tracer
(restarted calls, wait4 calls that reap nothing, getrandom, with address
randomisation off and a fixed Python hash seed for both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest
import tracecounts

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(shutil.which("strace") is None,
                       reason="strace is not installed (apt-get install strace)"),
]
TIMEOUT = 180


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")


def compare(argv, cwd, tmp_path, before=lambda: None):
    runs = {}
    for who, run in (("strace", tracecounts.run_strace), ("ours", tracecounts.run_ours)):
        before()
        out = tmp_path / who
        out.mkdir()
        runs[who] = run(argv, out, cwd, TIMEOUT)
    (strace_status, theirs), (our_status, ours) = runs["strace"], runs["ours"]
    assert our_status == strace_status
    assert tracecounts.differences(theirs, ours) == []
    return strace_status, theirs


def test_make_j2(tmp_path):
    needs("make")
    needs("cc")
    src = tmp_path / "src"
    src.mkdir()
    # `&& echo` makes make run each recipe through /bin/sh: the shells whose
    # rt_sigaction calls differed when the launch leaked Python's dispositions.
    (src / "Makefile").write_text("all: a.o b.o\n%.o: %.c\n\tcc -c $< -o $@ && echo made $@\n")
    (src / "a.c").write_text("int a(void) { return 1; }\n")
    (src / "b.c").write_text("int b(void) { return 2; }\n")

    def clean():
        for name in ("a.o", "b.o"):
            (src / name).unlink(missing_ok=True)

    status, tasks = compare(["make", "-j2"], src, tmp_path, clean)
    assert status == 0
    shells = [c for c in tasks.values() if c["execve"] and c["rt_sigaction"] and c["wait4"]]
    assert len(tasks) >= 7 and shells, sorted(tasks)  # make, 2 shells, 2 cc, cc1s, as


def test_gcc_c(tmp_path):
    needs("gcc")
    (tmp_path / "x.c").write_text(textwrap.dedent("""\
        #include <stdio.h>
        int main(void) { puts("x"); return 0; }
    """))
    status, tasks = compare(["gcc", "-c", "x.c", "-o", "x.o"], tmp_path, tmp_path,
                            lambda: (tmp_path / "x.o").unlink(missing_ok=True))
    assert status == 0 and len(tasks) >= 3  # gcc, cc1, as


def test_git_status(tmp_path):
    needs("git")
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    # Every time stamp in the past: an index entry whose file time is not older
    # than the index itself is "racily clean", and the next status re-checks it
    # and rewrites the index (a rename more) -- in whichever run comes first.
    (repo / "f").write_text("one\n")
    os.utime(repo / "f", (time.time() - 200,) * 2)
    subprocess.run([*git, "add", "f"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "one"], cwd=repo, check=True)
    (repo / "f").write_text("two\n")
    os.utime(repo / "f", (time.time() - 100,) * 2)
    # The first status after a change refreshes the index: once here, so that
    # both runs start from the same index.
    subprocess.run(["git", "status"], cwd=repo, check=True, capture_output=True)
    status, tasks = compare(["git", "status"], repo, tmp_path)
    assert status == 0 and tasks[()]["openat"] > 0


def test_python_subprocess(tmp_path):
    # One pipe only: communicate() then reads it to EOF instead of polling two
    # (how often poll() returns would depend on timing, under strace as well).
    program = tmp_path / "sub.py"
    program.write_text(textwrap.dedent("""\
        import subprocess, sys
        done = subprocess.run(["/bin/sh", "-c", "echo hi; exit 3"], stdout=subprocess.PIPE)
        print(done.returncode, done.stdout, flush=True)
        sys.exit(subprocess.call(["true"]) + 4)
    """))
    status, tasks = compare([sys.executable, str(program)], tmp_path, tmp_path)
    assert status == 4 and len(tasks) == 3


@pytest.mark.parametrize("script", ["kill -TERM $$", "kill -SEGV $$"])
def test_killed_by_a_signal(tmp_path, script):
    # strace dies of the signal that killed the program (no core file): so do we.
    status, tasks = compare(["sh", "-c", script], tmp_path, tmp_path)
    assert status < 0 and len(tasks) == 1
    assert not list(tmp_path.glob("core*"))


def test_exec_from_a_non_leader_thread(tmp_path, tracee):
    # Issue 14 point 9: the execve is the calling thread's (strace -ff writes it in
    # that thread's file), and what follows is the process's, under the leader's pid.
    status, tasks = compare([tracee("thread_exec")], tmp_path, tmp_path)
    assert status == 0 and len(tasks) == 2
    assert tasks[()]["execve"] == 1 and tasks[(0,)]["execve"] == 1
