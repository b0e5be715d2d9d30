"""The inputs: their catalogue (each input with its parser), one section per task or remote parsed beside
its inputs, and :func:`~build_status.config.selection.parse_config`, which decides which tasks run.

Pure: nothing here sends a request, and nothing changes a configuration once it is parsed.
"""
