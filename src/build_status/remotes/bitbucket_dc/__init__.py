"""Bitbucket Server / Data Center: its two build-status endpoints, chosen here and nowhere else.

``remote`` implements the status interface, with ``target`` as its configuration; ``api`` makes the
calls; ``payload`` and ``contract`` build and check the bodies against Atlassian's published schemas;
``failures`` words what went wrong; ``reading`` reads a commit's statuses back for the gate.
"""
