/* ppc-ptrace-exec-full-regs: nothing to do; what matters is the registers at
 * the exec event, before the first instruction. */
int main(void)
{
	return 0;
}
