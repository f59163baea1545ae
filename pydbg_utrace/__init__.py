"""pydbg-utrace: a utrace-style multiplexer of tracing engines on Linux ptrace."""
