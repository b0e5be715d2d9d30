"""Bitbucket Cloud: the commit statuses of ``api.bitbucket.org/2.0``, as a second place statuses go.

``remote`` implements the status interface, with ``target`` as its configuration; ``api`` makes the calls
and words what went wrong; ``reading`` reads a commit's statuses back, page after page, for the gate.
"""
