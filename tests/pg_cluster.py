"""A throwaway PostgreSQL server for the tests that stop and start one: ``initdb`` into a temporary
directory, ``pg_ctl`` on a free port on 127.0.0.1. initdb refuses to run as root, so as root the
server runs as the ``postgres`` user through ``runuser``."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class ClusterUnavailable(Exception):
    """No scratch server can be made here; the message says why (a test skips with it)."""


def server_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: ``pg_config --bindir``, else the newest Debian one."""
    candidates: list[Path] = []
    try:
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=30)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)], reverse=True)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "pg_ctl").is_file()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ScratchCluster:
    def __init__(self, bindir: Path, root: Path, run_as: list[str]) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.run_as = run_as
        self.port = 0
        self.running = False

    @classmethod
    def create(cls) -> ScratchCluster:
        bindir = server_bindir()
        if bindir is None:
            raise ClusterUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        run_as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                owner = None
            if runuser is None or owner is None:
                raise ClusterUnavailable("running as root, and no postgres user and runuser to run initdb as")
            run_as = [runuser, "-u", "postgres", "--"]
        root = Path(tempfile.mkdtemp(prefix="clinic-desk-pg-"))
        if owner is not None:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(bindir, root, run_as)
        try:
            cluster._run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--locale=C", "--no-sync")
            cluster.start()
        except BaseException:
            cluster.close()
            raise
        return cluster

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self.run_as, str(self.bindir / program), *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise ClusterUnavailable(f"{program} failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self) -> None:
        """Start the server (on the same port as before, once it has one)."""
        for _ in range(3):  # a free port can be taken between choosing it and listening on it
            port = self.port or _free_port()
            options = (
                f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
                " -c fsync=off -c full_page_writes=off -c max_connections=30 -c shared_buffers=16MB"
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "120",
                          "-o", options, "start")
            except ClusterUnavailable:
                if self.port:
                    raise
                continue
            self.port, self.running = port, True
            return
        raise ClusterUnavailable("pg_ctl could not start the scratch server on a free port")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "120", "-m", "fast", "stop")
        self.running = False

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """A new database on this server; returns its URL."""
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "120", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
