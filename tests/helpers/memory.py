"""This process's peak memory, for the bounded-output tiers (``VmHWM``, resettable)."""


def peak_rss_reset() -> None:
    """Start a new peak from the current resident set (Linux ``clear_refs`` 5)."""
    with open('/proc/self/clear_refs', 'w') as handle:
        handle.write('5')


def peak_rss() -> int:
    """The peak resident set size since the last reset, in bytes."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    raise AssertionError('no VmHWM')
