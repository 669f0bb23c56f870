"""An exec's exit code is read once the engine says the exec has ended."""

import time

from docker_plugin.resources.container import execs


class Inspects:
    """exec_inspect answers: ``running`` times still running (no code), then ended."""

    def __init__(self, running: int, code: int = 126) -> None:
        self.running, self.code, self.calls = running, code, 0

    def exec_inspect(self, exec_id: str) -> dict:
        self.calls += 1
        if self.calls <= self.running:
            return {'Running': True, 'ExitCode': None}
        return {'Running': False, 'ExitCode': self.code}


def test_an_exec_still_shown_running_after_its_output_ended_is_asked_again():
    api = Inspects(running=3)
    assert execs.exit_code(api, 'e1', 'exec', time.monotonic() + 10) == 126
    assert api.calls == 4


def test_the_code_is_read_at_once_when_the_exec_has_ended():
    api = Inspects(running=0, code=0)
    assert execs.exit_code(api, 'e1', 'exec', time.monotonic() + 10) == 0
    assert api.calls == 1


def test_asking_again_stops_at_the_deadline_and_says_nothing_it_does_not_know():
    api = Inspects(running=10 ** 6)
    started = time.monotonic()
    assert execs.exit_code(api, 'e1', 'exec', started + 0.3) is None
    assert time.monotonic() - started < 2
