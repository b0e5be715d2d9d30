"""The portable action's launcher: ``python -I -X utf8 run.py DEPS_DIR [ARGS...]`` runs ``build-status``.

This checkout's ``src/``, then the dependencies that install.py put in DEPS_DIR, go in front of sys.path
(ahead of the interpreter's own site-packages).  DEPS_DIR comes from the command line because ``-I`` ignores
the environment: with it, neither the workflow's ``PYTHONPATH`` nor a module in the workspace (the working
directory) nor the user's site-packages can stand in for ours.  The inputs arrive as ``INPUT_*`` variables.
"""

import os
import sys


def main() -> int:
    deps = sys.argv[1]
    src = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "src"))
    sys.path[:0] = [src, deps]
    sys.argv[1:2] = []  # the CLI reads its own arguments (none, or a subcommand) after the script name
    from build_status.cli import main as cli

    return cli(stage="portable")


if __name__ == "__main__":
    sys.exit(main())
