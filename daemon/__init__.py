"""Composition root: CLI, configuration, storage, runner, scheduler and service wiring."""
