"""``python -m evonas``: the command line."""

import sys

from evonas.cli import main

sys.exit(main())
