"""Name servers the test controls, and a step run that uses one (instead of the machine's).

- :class:`Nameserver` listens on UDP port 53 of a loopback address: ``answer=False`` never answers (a
  blackholed resolver), ``answer=True`` answers every query NXDOMAIN at once.
- :func:`resolving_with` wraps a step's command so that it runs in a private mount namespace where
  ``/etc/resolv.conf`` names that server: the machine's own resolver configuration is never changed, and
  the bind mount goes away with the process.

Needs root (port 53, ``unshare -m``); :func:`available` says whether this machine allows it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

#: A loopback address that nothing else on the machine uses for DNS.
ADDRESS = "127.0.0.153"
#: Bounds the serving thread's wait for the next query, so stop() is quick.
TICK = 0.1


def available() -> str:
    """ "" when a step can run with its own resolver here, else why not."""
    if os.geteuid() != 0:
        return "needs root (a name server on port 53 and a private mount namespace)"
    if not shutil.which("unshare"):
        return "needs unshare (util-linux)"
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10, check=False)
    if probe.returncode != 0:
        return f"unshare -m is not allowed here: {probe.stderr.decode(errors='replace').strip()}"
    return ""


class Nameserver:
    """A DNS server on ``ADDRESS:53`` (UDP) that answers NXDOMAIN, or never answers at all."""

    def __init__(self, *, answer: bool) -> None:
        self.answer = answer
        self.queries = 0
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((ADDRESS, 53))
        self._socket.settimeout(TICK)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="nameserver", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                query, client = self._socket.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.queries += 1
            if self.answer and len(query) >= 12:
                # The query's id and question, flags: a response, recursion available, NXDOMAIN; no answers.
                flags = bytes([0x80 | (query[2] & 0x01), 0x83])
                reply = query[:2] + flags + query[4:6] + b"\x00\x00\x00\x00\x00\x00" + query[12:]
                self._socket.sendto(reply, client)

    def stop(self) -> None:
        self._stopping.set()
        self._socket.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Nameserver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def resolving_with(command: list[str], workdir: Path) -> list[str]:
    """``command`` in a private mount namespace whose /etc/resolv.conf names :data:`ADDRESS` only (a
    lookup waits 30 s for an answer there, longer than any step's timeout)."""
    conf = workdir / "resolv.conf"
    conf.write_text(f"nameserver {ADDRESS}\noptions timeout:30 attempts:1\n", encoding="utf-8")
    # Python, not a shell, runs the mount and execs the step: a shell would drop the runner's hyphenated
    # INPUT_* variables (names that are not shell identifiers) from the environment.
    script = (
        "import os, subprocess, sys; "
        "subprocess.run(['mount', '--bind', sys.argv[1], '/etc/resolv.conf'], check=True); "
        "os.execv(sys.argv[2], sys.argv[2:])"
    )
    return ["unshare", "-m", "--propagation", "private", sys.executable, "-c", script, str(conf), *command]
