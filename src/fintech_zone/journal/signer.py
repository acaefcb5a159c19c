"""The validator signer a server runs: it records a tree head when one is due (settings: every N leaves or T
seconds) and signs the heads it has not signed with each key this machine holds."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fintech_zone.db import Database
from fintech_zone.errors import DomainError
from fintech_zone.journal import keys, service
from fintech_zone.journal.model import NODES

log = logging.getLogger("fintech_zone.journal")


class Signer:
    def __init__(self, db: Database, key_dir: Path, every_leaves: int, every_seconds: float) -> None:
        self.db = db
        self.keys: dict[str, Ed25519PrivateKey] = {
            node: key for node in NODES if (key := keys.load_private(key_dir, node)) is not None
        }
        self.every_leaves = every_leaves
        self.every_ms = int(every_seconds * 1000)
        self.period = min(1.0, every_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        service.make_head(self.db, self.every_leaves, self.every_ms)
        for node, key in self.keys.items():
            service.sign_heads(self.db, node, key)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.run_once()
            except DomainError as exc:  # a head that fails a validator's check: say so loudly, keep running
                log.error("journal signer: %s", exc.detail)
            except Exception:  # the database away for a moment, say: the next round tries again
                log.exception("journal signer: round failed")

    def start(self) -> None:
        if self._thread is None and self.keys:
            self._thread = threading.Thread(target=self._loop, name="journal-signer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
