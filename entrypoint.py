#!/usr/bin/env python3
"""The action's entry point (its main stage): runs ``build-status`` with the step's ``INPUT_*`` variables."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from build_status.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="main"))
