"""The HTTP layer under every remote (Bitbucket, Coveralls, webapp.io), moving here from ``http.py``.

- :mod:`.connection`: the connections under the session: name lookups bounded in time, interim (1xx)
  answers skipped.
- :mod:`.answers`: reads what a server answered, whatever it sent (JSON that may be anything, HTML, text).
"""
