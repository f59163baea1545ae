/* step-simple (and step-detach): a counting loop to be single-stepped.
 * Waits for "go", says where the counter lives, stops with SIGUSR1, counts to 200, exits 0. */
#include "common.h"

#define COUNT 200
static volatile long counter;

int main(void)
{
	int i;

	await_go();	/* step-detach attaches to it first */
	say("counter %p %d", (void *)&counter, COUNT);
	raise(SIGUSR1);
	for (i = 0; i < COUNT; i++)
		counter++;
	_exit(counter == COUNT ? 0 : 1);
}
