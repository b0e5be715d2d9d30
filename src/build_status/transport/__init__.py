"""The HTTP layer under every remote (Bitbucket, Coveralls, webapp.io): one session, one deadline, and
messages that say what happened to an exchange.

- :mod:`.deadline`: the :class:`~.deadline.Deadline` that bounds the whole run, the retry policy that
  retries inside it (:func:`~.deadline.make_retry`), and the :class:`~.deadline.Narrator` that says what
  the layer is doing while the step waits.
- :mod:`.session`: builds the session (TLS, proxies, User-Agent, the retry policy) and makes every exchange
  (:func:`~.session.request`): no redirects followed, each answer's body read streamed and capped.
- :mod:`.failures`: explains a failed exchange in a short sentence with no URL query (so no token), and
  says whether the request may have arrived.
- :mod:`.connection`: the connections under the session: name lookups bounded in time, interim (1xx)
  answers skipped.
- :mod:`.answers`: reads what a server answered, whatever it sent (JSON that may be anything, HTML, text).
"""
