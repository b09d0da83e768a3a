"""Run real `outreach run --webhook` processes for tests and benches of several instances."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import httpx

OUTREACH = str(Path(sys.executable).parent / "outreach")


class OutreachProcess:
    """One `outreach run --webhook URL` process, its web port and its log file."""

    def __init__(self, env: dict[str, str], folder: Path, webhook: str) -> None:
        with socket.socket() as sock:  # a port nobody listens on now
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.env = {**env, "OUTREACH_WEB_PORT": str(self.port)}
        self.folder, self.webhook = folder, webhook
        self.log = folder / f"log-{self.port}.txt"  # read it when something goes wrong
        self.process: asyncio.subprocess.Process | None = None

    @property
    def origin(self) -> str:
        """Return where a load balancer reaches this instance."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Return the process id (as in the instance's dispatcher and scheduler names)."""
        assert self.process is not None, "not started"
        return self.process.pid

    async def start(self) -> None:
        """Start the process and wait until its /healthz answers 200."""
        with self.log.open("w") as log:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                OUTREACH,
                "run",
                "--webhook",
                self.webhook,
                env=self.env,
                cwd=self.folder,
                stderr=log,
            )
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(self.origin + "/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"instance on port {self.port} not healthy; see {self.log}")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process unless it has ended (SIGKILL: a machine lost), and wait."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            await self.process.wait()


def busiest_second(times: list[float]) -> int:
    """Return the most events in any one-second window."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
