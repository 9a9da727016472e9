"""``python -m edu.migrations revision "what changed"``: write a new schema revision."""

from __future__ import annotations

import sys

from edu.migrations import revision


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "revision" or not argv[1].strip():
        print('usage: python -m edu.migrations revision "what changed"', file=sys.stderr)
        return 2
    print(revision(argv[1].strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
