"""What a job handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from b24app.context import Services
from b24app.store import jobs as jobs_repo
from b24app.store.db import Database
from b24app.store.jobs import Job


@dataclass
class JobContext:
    services: Services
    job: Job
    worker_id: str

    @classmethod
    def for_portal(cls, services: Services, member_id: str, *, kind: str = "cli",
                   payload: dict[str, Any] | None = None) -> JobContext:
        """A context for work done outside the queue (CLI commands, tests) on one portal: the same
        client, settings and enqueue as a job has. ``job.id`` is 0 (there is no job row)."""
        from b24app import clock

        now = clock.now()
        job = Job(id=0, member_id=member_id, kind=kind, payload=payload or {}, dedupe_key=None, lock_key=None,
                  status="running", priority=0, attempts=1, max_attempts=1, run_at=now, lease_until=None,
                  worker_id=kind, last_error=None, last_error_action=None, result=None, created_at=now,
                  updated_at=now, finished_at=None)
        return cls(services, job, kind)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def member_id(self) -> str:
        if not self.job.member_id:
            raise RuntimeError(f"job {self.job.id} ({self.job.kind}) has no portal")
        return self.job.member_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    @property
    def client(self) -> Any:
        """The portal's REST client (b24app.portal.client.PortalClient)."""
        return self.services.client(self.member_id)

    def settings(self) -> dict[str, Any]:
        """The portal's validated settings document (defaults filled in)."""
        from b24app.settings import document

        return document.load(self.db, self.member_id)

    def enqueue(self, kind: str, payload: dict[str, Any] | None = None, **kw: Any) -> tuple[int, bool]:
        kw.setdefault("member_id", self.job.member_id)
        return jobs_repo.enqueue(self.db, kind, payload, **kw)

    def extend_lease(self, seconds: float) -> bool:
        return jobs_repo.extend_lease(self.db, self.job.id, self.worker_id, seconds)
