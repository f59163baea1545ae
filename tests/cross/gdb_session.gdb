# gdb-multiarch on the host against pydbg-utrace gdbserver in a ppc64le/s390x guest
# (tools/vm/gdb-cross ... gdb_target): registers by name, a breakpoint, bt, x/, stepi,
# x/s, signals passed, the exit code.
info registers
p/x $pc
break compute
continue
bt
x/16xb $sp
stepi
p $pc
x/s greeting
delete
handle SIGUSR1 nostop noprint pass
continue
