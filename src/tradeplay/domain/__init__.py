"""Pure domain values and state machines. Imports nothing but the standard library."""
