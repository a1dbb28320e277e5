"""ConfD's jobs as the cluster keeps them: ids, stages, results, the configuration revision.

Every administrative action of a ConfD cluster (Exasol 7.1+) is a *job*: it is submitted,
scheduled, executed, and ends *finished* (a job that only reads) or *committed* (a job that
changed the configuration, which then has a new revision number). The jobs are kept like
every other object of the cluster, so that their history and a job still waiting for a
state (a database that is starting) outlive a restart of the server. The history is
bounded: the oldest ended jobs go first.

What each job does is the face's business (faces/confd/); here is only what a job is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exaop.model.base import Entity
from exaop.model.errors import NotFound, UsageError

if TYPE_CHECKING:
    from exaop.model.cluster import Cluster

SUBMITTED, SCHEDULED, EXECUTED, FINISHED, COMMITTED = "submitted", "scheduled", "executed", "finished", "committed"
STAGES = (SUBMITTED, SCHEDULED, EXECUTED, FINISHED, COMMITTED)
ENDED = frozenset({FINISHED, COMMITTED})
KEEP_JOBS = 1000  # ended jobs kept in the history; the oldest go first
SECRET_WORDS = ("pass", "secret", "key")  # parameters whose values are never kept
SHOWN_SECRET = "********"

# result codes of a job that ran (a call that is not understood is refused before any job exists)
OK, FAILED, NOT_FOUND, TIMEOUT = 0, 1, 2, 3
RESULT_NAMES = {OK: "OK", FAILED: "JobError", NOT_FOUND: "NotFound", TIMEOUT: "Timeout"}


def kept_params(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the history keeps them: a password is never written down."""
    return {k: SHOWN_SECRET if any(w in k.lower() for w in SECRET_WORDS) else v for k, v in params.items()}


class Job(Entity):
    """One job: its name, parameters, who submitted it, the moment of each stage, its result.

    ``wait`` names what an executed job waits for (``{'until': 'db_running', ...}``, read by
    the face) and ``deadline`` is when it gives up (its ``timeout``): it fails then, or, with
    ``partial`` in its wait, it is marked ``timed_out`` and ends with what it got. Both are
    kept, so a job that waits goes on waiting after a restart.
    """

    kind = "confd_job"

    def __init__(self, cluster: Cluster, job_id: str, seq: int, name: str) -> None:
        super().__init__(cluster)
        self.job_id = job_id
        self.seq = seq
        self.name = name
        self.params: dict[str, Any] = {}
        self.user = ""
        self.changes = False  # ends committed, with a new revision
        self.stage = SUBMITTED
        self.times: dict[str, float] = {}
        self.code: int | None = None
        self.desc = ""
        self.output: Any = None
        self.revision: int | None = None
        self.wait: dict[str, Any] = {}

    @property
    def key(self) -> str:
        return self.job_id

    @property
    def ended(self) -> bool:
        return self.stage in ENDED

    FIELDS = ("seq", "name", "params", "user", "changes", "stage", "times", "code", "desc", "output", "revision",
              "wait")  # fmt: skip

    def record(self) -> dict[str, Any]:
        return {**{f: getattr(self, f) for f in self.FIELDS}, "deadline": self.deadline}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> Job:
        job = cls(cluster, key, int(rec.get("seq", 0)), str(rec.get("name", "")))
        for f in cls.FIELDS[2:]:
            if f in rec:
                setattr(job, f, rec[f])
        job.restore_deadline(rec.get("deadline"))
        return job

    def _at(self, stage: str) -> None:
        self.stage = stage
        self.times[stage] = self.cluster.now
        self.changed()

    def executing(self) -> None:
        """Scheduled and under way (what it does runs right after this)."""
        self._at(SCHEDULED)
        self._at(EXECUTED)

    def waits(self, until: dict[str, Any], timeout: float | None) -> None:
        """It is under way until the cluster reaches a state (``until``, the face's condition)."""
        self.wait = dict(until)
        self.set_deadline(timeout if timeout else None)

    def waits_next(self, until: dict[str, Any]) -> None:
        """Its next step waits for something else, within the same deadline."""
        self.wait = dict(until)
        self.changed()

    def succeed(self, output: Any = None) -> None:
        self._end(OK, "Success", output)

    def fail(self, code: int, desc: str) -> None:
        self._end(code, desc, None)

    def _end(self, code: int, desc: str, output: Any) -> None:
        if self.ended:
            return
        self.code, self.desc, self.output = code, desc, output
        self.wait = {}
        if self.deadline is not None:
            self.set_deadline(None)
        if self.changes and code == OK:
            self.revision = book(self.cluster).next_revision()
            self._at(FINISHED)
            self._at(COMMITTED)
        else:
            self._at(FINISHED)
        book(self.cluster).forget_old()

    def on_deadline(self) -> None:
        if self.ended:
            return
        if self.wait.get("partial"):  # it ends with what it got so far (the face tells what)
            self.wait = {**self.wait, "timed_out": True}
            self.changed()
            return
        what = self.wait.get("what", "its goal")
        self.fail(TIMEOUT, f"{self.name} timed out: {what} was not reached in time")

    def result(self) -> dict[str, Any]:
        """The result dict of ConfD (``result_code`` 0 = success); an unended job has none yet."""
        if not self.ended or self.code is None:
            raise UsageError(f"job {self.job_id} ({self.name}) has not finished yet (stage {self.stage})")
        out: dict[str, Any] = {
            "result_code": self.code,
            "result_name": RESULT_NAMES.get(self.code, "JobError"),
            "result_desc": self.desc,
            "result_jobid": self.job_id,
        }
        if self.output is not None:
            out["result_output"] = self.output
        if self.revision is not None:
            out["result_revision"] = self.revision
        return out


class JobBook(Entity):
    """The counters: the next job number and the configuration's revision."""

    kind = "confd_jobbook"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.next_seq = 1
        self.revision = 1

    @property
    def key(self) -> str:
        return "jobs"

    def record(self) -> dict[str, Any]:
        return {"next_seq": self.next_seq, "revision": self.revision}

    @classmethod
    def from_record(cls, cluster: Cluster, key: str, rec: dict[str, Any]) -> JobBook:
        b = cls(cluster)
        b.next_seq = int(rec.get("next_seq", 1))
        b.revision = int(rec.get("revision", 1))
        return b

    def next_revision(self) -> int:
        self.revision += 1
        self.changed()
        return self.revision

    def forget_old(self, keep: int = KEEP_JOBS) -> None:
        table = self.cluster.table(Job.kind)
        ended = [j for j in table.values() if j.ended]
        if len(ended) <= keep:
            return
        ended.sort(key=lambda j: j.seq)
        for job in ended[: len(ended) - keep]:
            del table[job.key]
            self.cluster.forget(job)


def book(cluster: Cluster) -> JobBook:
    table = cluster.table(JobBook.kind)
    b = table.get("jobs")
    if b is None:
        b = table["jobs"] = JobBook(cluster)
        b.changed()
    return b  # type: ignore[no-any-return]


def submit(cluster: Cluster, name: str, params: dict[str, Any], user: str, changes: bool, prefix: int) -> Job:
    """A new job, submitted: its id is ``<prefix>.<number>`` (the node that took it, a counter)."""
    b = book(cluster)
    seq = b.next_seq
    b.next_seq += 1
    b.changed()
    job = Job(cluster, f"{prefix}.{seq}", seq, name)
    job.params = kept_params(params)
    job.user = user
    job.changes = changes
    job._at(SUBMITTED)
    cluster.table(Job.kind)[job.key] = job
    return job


def job(cluster: Cluster, job_id: Any) -> Job:
    if not isinstance(job_id, str) or not job_id:
        raise UsageError("job_id must be a job id like '11.3' (a string)")
    found = cluster.table(Job.kind).get(job_id)
    if found is None:
        raise NotFound(f"no job {job_id!r} (unknown, or dropped from the history of the last {KEEP_JOBS})")
    return found  # type: ignore[no-any-return]


def waiting(cluster: Cluster) -> list[Job]:
    """Jobs under way that wait for a state, oldest first."""
    return sorted((j for j in cluster.table(Job.kind).values() if not j.ended and j.wait), key=lambda j: j.seq)


def history(cluster: Cluster) -> list[Job]:
    return sorted(cluster.table(Job.kind).values(), key=lambda j: j.seq)


ENTITY_KINDS: dict[str, Any] = {Job.kind: Job, JobBook.kind: JobBook}
