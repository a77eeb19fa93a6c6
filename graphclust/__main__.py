"""``python -m graphclust``: the ``graphclust`` command (as ``python -m graphclust.cli``)."""

import sys

from graphclust.cli import main

sys.exit(main())
