"""The REPL against gdb on a program with threads, in test_repl_vs_gdb_live.py's style:
the same batch session in both, compared answer by answer.

What users see of threads: ``[New Thread 0x... (LWP N)]`` when one is born,
``[Thread 0x... (LWP N) exited]`` when it ends, ``[Switching to Thread ...]``
when the stop is another thread's, and ``Thread 2 "name" hit Breakpoint 1,
...`` once the program has threads.  The program below makes the order of
these lines the same in every run (each thread is joined before the next
event), so only the LWP numbers are normalised (they differ between runs).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_repl_vs_gdb_live import both, pytestmark  # noqa: F401  (the same skips)
from test_source_gdb import compare

SOURCE = """\
#include <pthread.h>
volatile int counter;
void hit(int n) { counter += n; }
static void *one(void *arg) { hit((int)(long)arg); return 0; }
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, one, (void *)1L);
    pthread_join(t, 0);
    hit(2);
    pthread_create(&t, 0, one, (void *)3L);
    pthread_join(t, 0);
    return 0;
}
"""
THREADS = ["break hit", "run", "bt 2", "continue", "info threads", "continue", "thread",
           "continue"]


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (apt-get install gcc)")
    folder = tmp_path_factory.mktemp("repl_threads_vs_gdb")
    (folder / "twothreads.c").write_text(SOURCE)
    binary = folder / "twothreads"
    subprocess.run(["cc", "-O0", "-g", "-pthread", "-o", str(binary), "twothreads.c"],
                   cwd=folder, check=True)
    return binary


def _lwp(text: str) -> str:
    return re.sub(r"LWP \d+", "LWP N", text)


def test_thread_notes_and_hits_equal_gdb(program):
    pairs = [(cmd, _lwp(g), _lwp(o)) for cmd, g, o in both(program, THREADS)]
    compare(pairs)
    said = "\n".join(g for _, g, _ in pairs)
    assert said.count("[New Thread 0x") == 2 and said.count(" exited]") == 2, said
    assert 'Thread 3 "twothreads" hit Breakpoint 1, hit (n=3)' in said, said
