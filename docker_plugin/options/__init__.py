"""Declarative option tables: one per Docker object.

Each table names every option a user may set, the Python types it accepts,
where it goes in the Engine API call and whether the engine can change it in
place. Validation, call building and (later) drift detection all loop over the
tables; tasks never test option names one by one.
"""

from docker_plugin.options.base import Option, OptionTable

__all__ = ['Option', 'OptionTable']
