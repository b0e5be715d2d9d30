"""One run: check everything, then post the Bitbucket status (or relay a webapp.io run's) and/or close
the Coveralls build.

Every input is checked before the first request (what only Bitbucket's capabilities can tell, after that
one GET).  Each part (a status post, a relay, a Coveralls close, a gate) has its own HTTP session and its
own deadline of ``timeout`` seconds, so a slow or dead server for one part cannot use up the others' time;
a relay, which waits for minutes, restarts its deadline for each exchange, and a gate for each reading.
A failure of one part does not keep the others from running.
"""

from __future__ import annotations

import tempfile

import requests

from .context import Context
from .errors import EXIT_OK, EXIT_REMOTE
from .settings import Settings
from .transport import session as transport
from .transport.deadline import Deadline
from .workflow import Console


def run(settings: Settings, context: Context, console: Console, *, plan: object = None) -> int:
    """Carry out the run; returns the exit code. Raises InputError before anything is sent.

    ``plan``: the Bitbucket endpoint when it is known already (the post stage has it from the main stage).
    """
    # Each part is imported only by the runs that need it (start-up time).
    if settings.webappio:
        from . import relay
    if settings.check:
        from . import check as read_back
    elif settings.bitbucket:
        from . import post_status
    if settings.coveralls:
        from . import close_coverage
    if settings.bitbucket and not settings.check:
        if not settings.webappio:
            settings = settings._replace(bitbucket=post_status.read_tests(settings.bitbucket, console))
        check = relay.check if settings.webappio else post_status.check
        known = check(settings.bitbucket, context)  # every rule checked, even when the plan is given
        plan = plan or known
    if settings.insecure:
        console.warning(
            "insecure: true — TLS certificates are NOT verified; anyone on the network path can read the "
            "credentials and fake the servers' answers. Give the CA in ca-cert instead.",
            title="TLS verification is off",
        )
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    landed = True
    code = EXIT_OK
    with tempfile.TemporaryDirectory(prefix="build-status-") as workdir:
        verify = transport.tls_verify(settings.ca_cert, settings.insecure, console.env, workdir)

        def part() -> tuple[Deadline, requests.Session]:
            """A deadline and a session of one part's own."""
            deadline = Deadline(settings.timeout)
            return deadline, transport.build_session(deadline, verify=verify, say=console.info)

        if settings.webappio:
            deadline, session = part()
            with session, transport.build_session(deadline, verify=verify, once=True, say=console.info) as once:
                landed &= relay.run(settings, context, console, session, once, deadline, plan)
        elif settings.bitbucket and not settings.check:
            deadline, session = part()
            with session:
                landed &= post_status.run(settings.bitbucket, settings, context, console, session, deadline, plan)
        if settings.coveralls:
            deadline, session = part()
            with session:
                landed &= close_coverage.run(settings.coveralls, settings, console, session, deadline)
        if settings.check:  # after closing Coveralls: a fan-in job's gate comes last
            deadline, session = part()
            with session:
                code = read_back.run(settings, context, console, session, deadline)
    if not landed and settings.fail_on_error:
        return EXIT_REMOTE
    return code
