"""Plain frozen values: the build status to post, test counts, credentials, the states and their one mapping
table, and the default names derived from the run. No I/O, nothing of any remote's paths or fields."""
