"""Running ConfD jobs: submit, execute, wait for the state a job waits for, end it.

A job runs at once, in the call that submits it: the model operation is called and either
the job ends there (finished, or committed with a new revision), or it waits for the state
the operation leads to (a database that is starting) and ends when the cluster gets there —
whoever asks meanwhile sees it *executed*. Jobs that wait are watched by one task each on
the server's loop, woken by the runtime after every change; after a restart the waiting jobs
are taken up again from the store. Nothing here blocks the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from exaop.faces.confd.registry import JobSpec, Wait
from exaop.model import jobs
from exaop.model.errors import DomainError, NotFound, Unavailable

if TYPE_CHECKING:
    from exaop.engine.runtime import Runtime
    from exaop.model.cluster import Cluster
    from exaop.model.users import User

log = logging.getLogger("exaop.faces.confd")

#: the longest a job_wait or job_exec waits (real seconds) before it answers
MAX_WAIT = 3600.0


@dataclass
class JobContext:
    runtime: Runtime
    user: User
    job: jobs.Job
    prepared: dict[str, Any]  # what the job's prepare() worked out off the loop

    @property
    def cluster(self) -> Cluster:
        return self.runtime.cluster


Outcome = tuple[int, str, Any]  # result code, description, output


@dataclass
class Next:
    """A job's next step, once what it waited for is there (stop storage, then the nodes): ``act``
    changes the cluster and returns the next Wait, or the job's outcome. A condition never changes
    anything itself (it is checked inside the runtime's commit); its Next is run afterwards."""

    act: Callable[[], Wait | Outcome]


#: what a job may wait for: (cluster, the job's wait dict) -> None while not there, else the
#: outcome or the next step. Pure: it only looks.
Condition = Callable[["Cluster", dict[str, Any]], "Outcome | Next | None"]
CONDITIONS: dict[str, Condition] = {}


def condition(name: str) -> Callable[[Condition], Condition]:
    def register(fn: Condition) -> Condition:
        CONDITIONS[name] = fn
        return fn

    return register


def _outcome(cluster: Cluster, job: jobs.Job) -> Outcome | Next | None:
    cond = CONDITIONS.get(str(job.wait.get("until", "")))
    if cond is None:
        return jobs.FAILED, f"{job.name} waits for {job.wait.get('until')!r}, which this server does not know", None
    try:
        return cond(cluster, job.wait)
    except NotFound as e:
        return jobs.NOT_FOUND, e.reason, None


def code_for(err: DomainError) -> int:
    return jobs.NOT_FOUND if isinstance(err, NotFound) else jobs.FAILED


class JobRunner:
    """The jobs of one runtime: runs them, and watches the ones that wait."""

    def __init__(self, runtime: Runtime, prefix: Callable[[], int]) -> None:
        self.runtime = runtime
        self.prefix = prefix  # the number of the node that takes the jobs (the ids' first part)
        self._watched: dict[str, asyncio.Task[None]] = {}

    def run(self, spec: JobSpec, params: dict[str, Any], user: User, prepared: dict[str, Any] | None = None
            ) -> jobs.Job:  # fmt: skip
        """Submit and execute a job whose parameters were checked; it has ended, or it waits."""
        c = self.runtime.cluster
        job = jobs.submit(c, spec.name, params, user.login, spec.changes, self.prefix())
        job.executing()
        try:
            out = spec.fn(JobContext(self.runtime, user, job, prepared or {}), params)
        except DomainError as e:
            job.fail(code_for(e), e.reason)
        except Exception as e:  # a bug: the job fails, the traceback goes to the log
            log.exception("job %s (%s) failed unexpectedly", job.job_id, spec.name)
            job.fail(jobs.FAILED, f"{spec.name} failed unexpectedly ({type(e).__name__}); see the server log")
        else:
            if isinstance(out, Wait):
                job.waits(out.until, out.timeout)
                self._settle(job)
                if not job.ended:
                    self.watch(job)
            else:
                job.succeed(out)
        return job

    def _settle(self, job: jobs.Job) -> bool:
        """Move a waiting job on: end it if its state is reached (or cannot be any more), or take
        its next step. True when it changed."""
        changed = False
        while not job.ended:
            outcome = _outcome(self.runtime.cluster, job)
            if outcome is None:
                return changed
            changed = True
            if isinstance(outcome, Next):
                try:
                    step = outcome.act()
                except DomainError as e:
                    job.fail(code_for(e), e.reason)
                    break
                if isinstance(step, Wait):  # its timeout: a new one, or (None) the job's own goes on
                    if step.timeout is None:
                        job.waits_next(step.until)
                    else:
                        job.waits(step.until, step.timeout)
                    continue
                outcome = step
            code, desc, output = outcome
            if code == jobs.OK:
                job.succeed(output)
            else:
                job.fail(code, desc)
        return True

    def watch(self, job: jobs.Job) -> None:
        """Watch a waiting job on the running loop until it ends."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a unit test): whoever waits for it settles it
            return
        if job.job_id not in self._watched:
            self._watched[job.job_id] = loop.create_task(self._watch(job.job_id))

    async def _watch(self, job_id: str) -> None:
        rt = self.runtime
        try:
            job = jobs.job(rt.cluster, job_id)
            # checked after every change; ending the job is a change of its own, made here
            while not job.ended:
                await rt.wait_until(lambda: job.ended or _outcome(rt.cluster, job) is not None)
                if self._settle(job):
                    rt.commit()
        except Unavailable:  # the server stops: the job goes on after the restart
            pass
        except Exception:
            log.exception("watching job %s failed", job_id)
        finally:
            self._watched.pop(job_id, None)

    def resume(self) -> None:
        """After a start: watch again the jobs that were waiting when the server stopped."""
        rt = self.runtime
        changed = False
        for job in jobs.waiting(rt.cluster):
            changed = self._settle(job) or changed
            if not job.ended:  # still waiting, for what it waited for or for its next step
                self.watch(job)
        if changed:
            rt.commit()

    async def wait(self, job: jobs.Job, timeout: float | None) -> bool:
        """Whether the job has ended within ``timeout`` real seconds (None: up to MAX_WAIT)."""
        if job.ended:
            return True
        limit = MAX_WAIT if timeout is None else max(0.0, min(float(timeout), MAX_WAIT))
        try:
            await asyncio.wait_for(self.runtime.wait_until(lambda: job.ended), limit)
        except TimeoutError:
            return False
        return True
