#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <signal.h>
int counter;
void *worker(void *a) { counter++; return a; }
int main(void) {
  pthread_t t; signal(SIGUSR1, SIG_IGN);
  pthread_create(&t, 0, worker, 0); pthread_join(t, 0);
  counter += 2; write(1, "hi\n", 3); raise(SIGUSR1);
  return 3;
}
