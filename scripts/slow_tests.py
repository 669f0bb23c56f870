"""Write tests/slow.txt, the tests the ``slow`` marker selects, from a measured run.

    bash scripts/test.sh --junitxml=.cache/run.xml -o junit_duration_report=call
    .venv/bin/python scripts/slow_tests.py .cache/run.xml

A test is slow when its own call (not the fixtures it shares with others, such as
the swarm lab) took more than ``--over`` seconds (20 by default). Each line is a
node id and what it took; tests/conftest.py marks them (tests/helpers/markers.py).
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEADER = ('# Tests over {over:g} s of their own on the 2-core machine (the slow marker).\n'
          '# Written by scripts/slow_tests.py from a run with --junitxml; '
          'an entry that names no test fails the run.\n')


def measured(report: Path) -> dict[str, float]:
    """Node id -> seconds, for every test case of a JUnit report written by pytest."""
    found: dict[str, float] = {}
    for case in ET.parse(report).getroot().iter('testcase'):
        module = case.get('classname', '').replace('.', '/')
        found[f'{module}.py::{case.get("name")}'] = float(case.get('time') or 0)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('report', type=Path, help="pytest's --junitxml file")
    parser.add_argument('--over', type=float, default=20.0, help='seconds (default 20)')
    parser.add_argument('-o', '--output', type=Path, default=REPO / 'tests' / 'slow.txt')
    args = parser.parse_args(argv)
    slow = sorted((seconds, nodeid) for nodeid, seconds in measured(args.report).items()
                  if seconds > args.over)
    lines = [f'{nodeid}  # {seconds:.0f} s' for seconds, nodeid in reversed(slow)]
    args.output.write_text(HEADER.format(over=args.over) + '\n'.join(lines) + '\n')
    print(f'{len(lines)} tests over {args.over:g} s written to {args.output}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
