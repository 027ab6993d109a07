"""`python -m snncc` is the `snncc` command."""

import sys

from .cli import main

sys.exit(main())
