"""The pure core: every business decision, with no I/O."""
