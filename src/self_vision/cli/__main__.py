"""``python -m self_vision.cli``: the same as the ``self-vision`` command."""

import sys

from .main import main

sys.exit(main())
