"""Source-level debugging: DWARF lines, variables, types, values, CFI unwinding, C expressions."""
