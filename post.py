#!/usr/bin/python3 -Iu
"""The action's post stage (``runs.post-entrypoint``): when the job ends, posts its final state where the
main stage posted INPROGRESS (report-job-end). The runner runs it with the inputs evaluated again, so
``job-status`` is the job's final status, and with what the main stage saved as ``STATE_build_status``.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from build_status.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="post"))
