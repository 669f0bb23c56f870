"""Declarative option tables: one per Docker object and per operation input.

Each table names every option a user may set, the check that validates it,
where it goes in the Engine API call, where inspect data shows it back, how
drift compares it, whether the engine can change it in place, and whether
its value is secret. Validation, the create call, drift and update all loop
over the tables; tasks never test option names one by one.

Nothing is imported here: an operation loads only the tables it uses. Which
inputs of which node kind hold secrets is said in ``docker_plugin.kinds``.
"""
