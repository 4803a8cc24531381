"""Sweeps over scenarios, policies and seeds, and sharded national-scale runs (on Ray)."""
