"""``python -m voltpeak`` is the ``voltpeak`` command."""

import sys

from voltpeak.cli import main

sys.exit(main())
