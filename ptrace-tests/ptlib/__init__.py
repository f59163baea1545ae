"""Support code shared by the ptrace-tests scenarios (not part of the package)."""
