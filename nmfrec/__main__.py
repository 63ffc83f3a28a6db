"""``python -m nmfrec``: the same as the ``nmfrec`` command."""

import sys

from .cli import main

sys.exit(main())
