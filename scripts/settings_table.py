"""Write the settings tables into docs/configuration.md (between its settings markers), or check them.

    .venv/bin/python scripts/settings_table.py           # rewrite docs/configuration.md
    .venv/bin/python scripts/settings_table.py --check   # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.settings import PROJECT_ROOT  # noqa: E402
from service.settings_doc import with_tables  # noqa: E402

DOCUMENT = PROJECT_ROOT / "docs" / "configuration.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the document is up to date")
    args = parser.parse_args()
    text = DOCUMENT.read_text(encoding="utf-8")
    current = with_tables(text)
    if args.check:
        sys.exit(0 if current == text else f"{DOCUMENT} is out of date: run scripts/settings_table.py")
    DOCUMENT.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
