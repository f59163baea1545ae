# gdb-multiarch on the host against pydbg-utrace gdbserver in the ppc64le guest
#   tools/vm/gdb-cross --arch ppc64le -x tests/cross/gdb_atomic.gdb -- cross_atomic fork-mt
# stepi from glibc's fork() to a load-reserve, then step it twice over (docs/gdbserver.md,
# "Atomic sequences"): a single-step trap between lwarx and stwcx. clears the
# reservation, so a naive step makes stwcx. fail and the loop retry for ever.
#  1. a raw `vCont;s` (maint packet): OUR step must land after the store-conditional;
#  2. gdb's own `stepi` at the next load-reserve: gdb 13 does not ask vCont;s there, it
#     plants Z0 after the sequence itself (ppc_deal_with_atomic_sequence) and sends vCont;c.
# Each prints "atomic: ... stepped through" when it landed right after the stwcx./stdcx.
handle SIGSTOP nostop noprint nopass
break fork
continue
delete

define to_larx
  set $steps = 0
  set $insn = *(unsigned int *) $pc
  while $steps < 400 && ($insn & 0xfc0007fe) != 0x7c000028 && ($insn & 0xfc0007fe) != 0x7c0000a8
    stepi
    set $steps = $steps + 1
    set $insn = *(unsigned int *) $pc
  end
  set $larx = (unsigned long) $pc
  set $sc = $larx
  set $insn = *(unsigned int *) $sc
  while $sc < $larx + 64 && ($insn & 0xfc0007ff) != 0x7c00012d && ($insn & 0xfc0007ff) != 0x7c0001ad
    set $sc = $sc + 4
    set $insn = *(unsigned int *) $sc
  end
  printf "atomic: %d stepi to the load-reserve at %#lx; its store-conditional at %#lx\n", $steps, $larx, $sc
  x/6i $pc
  bt 3
end

define landed
  set $after = (unsigned long) $pc
  printf "atomic: %s from %#lx landed at %#lx (after the store-conditional: %#lx)\n", $arg0, $larx, $after, $sc + 4
  if $after == $sc + 4
    printf "atomic: %s stepped through the sequence\n", $arg0
  end
end

to_larx
python
pid, lwp, _ = gdb.selected_thread().ptid
gdb.execute(f"maint packet vCont;s:p{pid:x}.{lwp:x}")
end
maint flush register-cache
landed "vCont;s"

stepi
to_larx
set debug remote 1
stepi
set debug remote 0
landed "gdb's stepi"
continue
