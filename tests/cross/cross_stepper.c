/* A raw PTRACE_SINGLESTEP tracer, bounded by a step count: no multiplexer, no
   atomic-sequence rule. It shows what the kernel alone does on each arch.

   Usage: cross_stepper [-n MAXSTEPS] [-e EVERY] [-a] [-s] PROG [ARG...]
     Runs PROG under ptrace. Without -a it continues to PROG's first SIGSTOP and
     single-steps until the next SIGSTOP (cross_atomic brackets its region so);
     with -a it single-steps from the exec stop to the exit. Every EVERY steps it
     prints the PC; at the end, one RESULT line (completed / LIVELOCK / exited),
     steps/s, and the most frequent PCs (a livelock shows as a few hot PCs).
     -s swallows signals (steps on with signal 0), as a naive tracer does. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__powerpc64__)
#define PC_INDEX 32 /* pt_regs.nip */
#elif defined(__s390x__)
#define PC_INDEX 1 /* s390_regs.psw.addr */
#elif defined(__x86_64__)
#define PC_INDEX 16 /* user_regs_struct.rip */
#else
#error "unknown arch"
#endif

static unsigned long get_pc(pid_t pid) {
    unsigned long regs[128];
    struct iovec iov = {regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0) return 0;
    return regs[PC_INDEX];
}

#define HSIZE 4096
static struct { unsigned long pc; unsigned long n; } hist[HSIZE];

static void count(unsigned long pc) {
    unsigned h = (unsigned)((pc >> 1) * 2654435761u) % HSIZE;
    for (unsigned i = 0; i < HSIZE; i++, h = (h + 1) % HSIZE) {
        if (hist[h].pc == pc || hist[h].n == 0) {
            hist[h].pc = pc;
            hist[h].n++;
            return;
        }
    }
}

static int by_count(const void *a, const void *b) {
    const unsigned long na = ((const unsigned long *)a)[1], nb = ((const unsigned long *)b)[1];
    return na < nb ? 1 : na > nb ? -1 : 0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    unsigned long max = 200000, every = 0;
    int all = 0, swallow = 0, opt;
    while ((opt = getopt(argc, argv, "+n:e:as")) != -1) {
        if (opt == 'n') max = strtoul(optarg, NULL, 0);
        else if (opt == 'e') every = strtoul(optarg, NULL, 0);
        else if (opt == 'a') all = 1;
        else if (opt == 's') swallow = 1;
        else return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: %s [-n MAX] [-e EVERY] [-a] PROG [ARG...]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[optind], argv + optind);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0); /* the exec SIGTRAP */
    ptrace(PTRACE_SETOPTIONS, pid, 0, (void *)PTRACE_O_EXITKILL);
    if (!all) {
        ptrace(PTRACE_CONT, pid, 0, 0);
        waitpid(pid, &st, 0);
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
            printf("RESULT: error: tracee did not stop at its region (status 0x%x)\n", st);
            return 2;
        }
    }
    unsigned long steps = 0, other = 0, pc = get_pc(pid);
    int sig = 0;
    const char *outcome = "LIVELOCK";
    printf("stepper: pid %d, stepping from pc=%#lx, at most %lu steps\n", pid, pc, max);
    double t0 = now();
    while (steps < max) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, (void *)(long)sig) < 0) {
            printf("RESULT: error: PTRACE_SINGLESTEP: %s\n", strerror(errno));
            return 2;
        }
        sig = 0;
        if (waitpid(pid, &st, __WALL) != pid) {
            printf("RESULT: error: waitpid: %s\n", strerror(errno));
            return 2;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            static char why[64];
            if (WIFEXITED(st))
                snprintf(why, sizeof why, "%s (exit %d)", all ? "completed" : "exited",
                         WEXITSTATUS(st));
            else
                snprintf(why, sizeof why, "killed by signal %d (%s)", WTERMSIG(st),
                         strsignal(WTERMSIG(st)));
            outcome = why;
            break;
        }
        int s = WSTOPSIG(st);
        if (s == SIGSTOP && !all) {
            outcome = "completed";
            break;
        }
        pc = get_pc(pid);
        if (s != SIGTRAP) { /* pass other signals on, count and show them */
            siginfo_t si;
            memset(&si, 0, sizeof si);
            ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
            printf("step %lu: signal %d (%s) si_code=%d si_addr=%p at pc=%#lx\n", steps, s,
                   strsignal(s), si.si_code, si.si_addr, pc);
            other++;
            sig = swallow ? 0 : s;
        } else if (every == 1) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
            printf("step %lu pc=%#lx si_code=%d\n", steps + 1, pc, si.si_code);
        }
        steps++;
        count(pc);
        if (every > 1 && steps % every == 0)
            printf("step %lu pc=%#lx %.0f steps/s\n", steps, pc, steps / (now() - t0));
    }
    double dt = now() - t0;
    printf("RESULT: %s after %lu steps in %.2fs (%.0f steps/s), %lu non-SIGTRAP stops, "
           "last pc=%#lx\n", outcome, steps, dt, dt > 0 ? steps / dt : 0.0, other, pc);
    qsort(hist, HSIZE, sizeof hist[0], by_count);
    printf("hot PCs:");
    for (int i = 0; i < 6 && hist[i].n; i++) printf(" %#lx x%lu", hist[i].pc, hist[i].n);
    printf("\n");
    if (strcmp(outcome, "LIVELOCK") == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return 1;
    }
    if (!all) { /* let the tracee finish outside the region */
        ptrace(PTRACE_DETACH, pid, 0, (void *)(long)SIGCONT);
        waitpid(pid, &st, 0);
    }
    return 0;
}
