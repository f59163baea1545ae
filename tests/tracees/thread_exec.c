/* A thread (not the main one) calls execv(argv[1], argv+1) (default program:
   /bin/true); the main thread waits in pthread_join and never returns from it. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **prog;

static void *execer(void *arg) {
    (void)arg;
    execv(prog[0], prog);
    return NULL;
}

int main(int argc, char **argv) {
    static char *fallback[] = {"/bin/true", NULL};
    prog = argc > 1 ? argv + 1 : fallback;
    pthread_t t;
    if (pthread_create(&t, NULL, execer, NULL)) return 2;
    pthread_join(t, NULL);
    return 3;
}
