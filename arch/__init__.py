"""Architecture modules: one per machine, behind one interface."""
