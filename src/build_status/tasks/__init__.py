"""The tasks: post a status, gate on the statuses read back, relay a webapp.io run, close a Coveralls build.

Each takes its frozen configuration and the remotes it needs and returns an outcome; no task imports the stages.
"""
