"""``python -m graphclust.cli``: the ``graphclust`` command."""

import sys

from graphclust.cli import main

sys.exit(main())
