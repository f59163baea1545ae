"""``python -m pydbg_utrace``: the same as the ``pydbg-utrace`` command."""

import sys

from .cli import main

sys.exit(main())
