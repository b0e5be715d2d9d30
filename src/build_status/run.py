"""One run: check everything, then post the Bitbucket status (or relay a webapp.io run's) and/or close
the Coveralls build.

Every input is checked before the first request.  The parts share one HTTP session and one deadline (the
``timeout`` input); a relay, which waits for minutes, restarts it for each exchange.  A failure of one
part does not keep the other from running.
"""

from __future__ import annotations

import tempfile

from . import http
from .context import Context
from .errors import EXIT_OK, EXIT_REMOTE
from .settings import Settings
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
    deadline = http.Deadline(settings.timeout)
    landed = True
    code = EXIT_OK
    with tempfile.TemporaryDirectory(prefix="build-status-") as workdir:
        verify = http.tls_verify(settings.ca_cert, settings.insecure, console.env, workdir)
        session = http.build_session(deadline, verify=verify)
        once = http.build_session(deadline, verify=verify, once=True)
        try:
            if settings.webappio:
                landed &= relay.run(settings, context, console, session, once, deadline, plan)
                deadline.restart()
            elif settings.bitbucket and not settings.check:
                landed &= post_status.run(settings.bitbucket, settings, context, console, session, deadline, plan)
            if settings.coveralls:
                landed &= close_coverage.run(settings.coveralls, settings, console, session, deadline)
                deadline.restart()
            if settings.check:  # after closing Coveralls: a fan-in job's gate comes last
                code = read_back.run(settings, context, console, session, deadline)
        finally:
            session.close()
            once.close()
    if not landed and settings.fail_on_error:
        return EXIT_REMOTE
    return code
