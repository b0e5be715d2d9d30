"""The stages around a run of tasks: the command line, the action's main stage and its post stage
(report-job-end, with ``$GITHUB_STATE`` and ``$GITHUB_ENV``), and the portable variant without one."""
