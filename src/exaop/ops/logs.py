"""`exaop cluster logs`: a log service's messages, read through a tag of our own.

The tag is new, so the first look reads every message the service keeps, page after page
to the end (as :class:`LogFeed` does); ``follow`` then looks again every ``poll`` seconds
for what came since, until the run is interrupted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from exaop.client import ClientError, ExaClient
from exaop.client.backend import Backend
from exaop.ops.clock import ToolClock
from exaop.ops.config import Options, parse_duration
from exaop.ops.errors import ConfigError, as_ops_error
from exaop.ops.events import EventSink
from exaop.ops.observe import LogFeed
from exaop.ops.run import Run

PRIORITIES = ("Error", "Warning", "Notice", "Information")  # most severe first, as EXAoperation has them
STRTIME = "%Y-%m-%d %H:%M:%S.%f"
_ABSOLUTE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?)?Z?$")


def parse_priority(text: str) -> str:
    """'warn', 'Warning', 'info'... -> the priority's name; a usage error otherwise."""
    wanted = text.strip().lower()
    for p in PRIORITIES:
        if wanted and p.lower().startswith(wanted):
            return p
    raise ConfigError(f"--priority: {text!r} is not a priority (one of {', '.join(PRIORITIES)})")


def parse_since(text: str) -> Callable[[datetime], datetime]:
    """``--since``: a UTC time (2025-01-31, 2025-01-31 12:00, 2025-01-31T12:00:03Z) or a
    duration before the server's clock (10m, 2h); -> the moment, given the server's now."""
    m = _ABSOLUTE.match(text.strip())
    if m:
        day, hm, rest = m.groups()
        stamp = f"{day} {hm or '00:00'}{rest or ':00'}"
        try:
            at = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        except ValueError:
            raise ConfigError(f"--since: {text!r} is not a time") from None
        return lambda _now: at
    ago = parse_duration(text, "--since (a UTC time like 2025-01-31 12:00, or a duration like 10m)")
    return lambda now: now - timedelta(seconds=ago)


def entry_time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), STRTIME).replace(tzinfo=UTC)
    except ValueError:
        return None


def read_logs(
    backend: Backend | ExaClient,
    opts: Options,
    out: Callable[[dict[str, Any]], None],
    service: str | None = None,
    since: str | None = None,
    priority: str | None = None,
    follow: bool = False,
    poll: float = 1.0,
    clock: ToolClock | None = None,
    on_event: EventSink | None = None,
) -> int:
    """Hand every message of ``service`` (default: the first log service) at ``priority``
    or more severe and not older than ``since`` to ``out``; with ``follow``, go on until
    interrupted. Returns how many messages were handed out."""
    worst = PRIORITIES.index(parse_priority(priority)) if priority else len(PRIORITIES) - 1
    start = parse_since(since) if since else None
    run = Run("logs", backend, opts, clock, on_event)
    try:
        run.await_answer("logs")
        names = run.read(run.backend.log_services)
        if service is None:
            if not names:
                raise ConfigError(f"{run.backend.interface} shows no log service"
                                  + (" (ConfD has none: read the log through EXAoperation or on the nodes)"
                                     if run.backend.api == "confd" else ""))  # fmt: skip
            service = names[0]
        elif service not in names:
            raise ConfigError(f"--service: no log service {service!r} (there are: {', '.join(names) or 'none'})")
        feed = LogFeed(run, service, news_only=False, max_pages=1_000_000)
        threshold: datetime | None = None
        count = 0
        while True:
            entries = feed.poll()
            if start is not None and threshold is None:
                threshold = start(entry_time(feed.server_time) or datetime.now(UTC))
            for e in entries:
                rank = PRIORITIES.index(e["priority"]) if e.get("priority") in PRIORITIES else 0
                when = entry_time(e.get("strtime"))
                if rank > worst or (threshold is not None and when is not None and when < threshold):
                    continue
                out(e)
                count += 1
            if not follow:
                return count
            run.clock.sleep(poll)
            run.deadline = run.clock.now() + opts.timeout("logs")
    except ClientError as e:
        raise as_ops_error(e) from None
    finally:
        run.pool.shutdown(wait=False, cancel_futures=True)
