"""``python -m bench.enrollments`` (``make bench-enrollments``): N enrollments due at one instant.

N contacts, N ``order.placed`` events and N ACTIVE enrollments, all waking at the same past
instant, are inserted in bulk (not timed). Then, each in a fresh worker subprocess on the same
database and the same rows (reset between runs):

- **raw per-row UPDATE** (the baseline): one ``UPDATE enrollments SET step_id, wake_at,
  updated_at WHERE id = ?`` per row, each in its own transaction, on the raw DB-API connection,
  from the same number of threads — what relance's advance ultimately writes;
- **raw batched UPDATE**: ``… WHERE id IN (500 ids)`` per transaction, one thread;
- **relance**: the sweep hands every due id out (timed on its own, 500 per call as in
  production), then ``T`` threads call ``advance_enrollment(runtime, id)`` as the Dramatiq actors
  would (broker and actor middleware left out). Campaigns: ``split`` (split on language → a
  2-day delay: two steps, one wake-up, no message) and ``post_purchase`` (the ready-made campaign:
  split → transactional thank-you queued in the ledger → wait until a weekday 09:00-17:00 local;
  the dispatcher only records, nothing is sent).

Memory is the worker subprocess's own peak RSS (``VmHWM``; ``ru_maxrss`` would include the
parent's, inherited across fork and exec), printed with its value when the measured work
started; the raw phases hold the same id list, so their peak is the reference. The relance
worker also counts the SQL statements it sends per advance. After each run every row is
checked: advanced exactly once (its trace and optimistic revision say so), to the right step,
and, for post_purchase, with exactly one pending message at the right thank-you step.

Options: ``--n`` (default 100000), ``--db sqlite|postgres|both`` (default both; PostgreSQL at
``RELANCE_BENCH_POSTGRES_URL``, database ``relance_bench_enrollments``, skipped with the reason
when unreachable), ``--threads`` (comma-separated counts, each measured in turn with its own
per-row baseline; default 4 on SQLite, 8 on PostgreSQL), ``--campaign
split|post_purchase|both`` (default both), ``--profile`` (relance on one thread under cProfile;
prints the top functions by cumulative time, then relance's own).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy import delete, insert, select, update

from relance.store.db import create_db_engine
from relance.store.models import (
    Campaign,
    CampaignVersion,
    Contact,
    Enrollment,
    Event,
    Message,
    TraceRecord,
)

PG_ADMIN = os.environ.get(
    "RELANCE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "relance_bench_enrollments"
ROOT = Path(__file__).resolve().parent.parent
#: Threads per worker without ``--threads``: SQLite gains nothing past 1-2 threads on 2 cores (the
#: GIL; 4 is the embedded worker's default), PostgreSQL ~1.7x from 1 to 4-8 (8 as in production).
DEFAULT_THREADS = {"sqlite": 4, "postgresql": 8}
CAMPAIGNS = ("split", "post_purchase")
#: Contacts' languages, in turn: the five split branches, subtags, and two that go to "other".
SEEDED_LANGUAGES = ("fr", "en", "de", "es", "it", "fr-CA", "pt", None)
SEEDED_TIME_ZONES = ("Europe/Paris", "America/New_York", None)
SPLIT_LANGUAGES = ("fr", "en", "de", "es", "it")
ENTRY_STEP = "by_language"
INSERT_CHUNK = 5000
#: Ids per batched UPDATE: the sweep's batch (SWEEP_BATCH).
UPDATE_BATCH = 500


def _language_key(language: str | None) -> str:
    primary = (language or "").split("-")[0].lower()
    return primary if primary in SPLIT_LANGUAGES else "other"


def expected_step(campaign: str, language: str | None) -> tuple[str, ...]:
    """Where one advance leaves an enrollment of ``campaign`` (post_purchase: by the clock)."""
    if campaign == "split":
        return (f"after_{_language_key(language)}",)
    return ("wait_2_days", "cross_sell_check")  # the weekday window was ahead / already open


def split_definition() -> Any:
    """Split on language (five branches + default) → a 2-day delay → exit, per branch."""
    from relance.automation.conditions import ContactField, ContactFieldPredicate, Op
    from relance.automation.definitions import (
        CampaignDefinition,
        DelayStep,
        EventTrigger,
        ExitStep,
        SplitBranch,
        SplitStep,
    )

    branch_steps: list[Any] = []
    for key in (*SPLIT_LANGUAGES, "other"):
        branch_steps.append(DelayStep(id=f"wait_{key}", seconds=2 * 86400, next=f"after_{key}"))
        branch_steps.append(ExitStep(id=f"after_{key}"))
    split = SplitStep(
        id=ENTRY_STEP,
        branches=tuple(
            SplitBranch(
                label=language,
                condition=ContactFieldPredicate(
                    field=ContactField.LANGUAGE, op=Op.EQ, value=language, match_subtags=True
                ),
                next=f"wait_{language}",
            )
            for language in SPLIT_LANGUAGES
        ),
        default_next="wait_other",
    )
    return CampaignDefinition(
        trigger=EventTrigger(events=("order.placed",)),
        entry_step=ENTRY_STEP,
        steps=(split, *branch_steps),
    )


# --- setup (not timed) -----------------------------------------------------------------------


def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


@dataclass(frozen=True)
class Seeded:
    n: int
    due: datetime
    #: campaign name → (campaign id, version id)
    campaigns: dict[str, tuple[UUID, UUID]]


def seed(url: str, n: int) -> Seeded:
    """A demo store, the two campaigns published, and N contacts, events and enrollments."""
    from sqlalchemy.orm import Session

    from relance.automation.events import DomainEvent, EventType, LineItem, OrderSnapshot
    from relance.automation.library import TEMPLATES
    from relance.settings import DEVELOPMENT_SECRET_KEY
    from relance.store.crypto import SecretBox
    from relance.store.models import CampaignStatus, StoreKind, VersionStatus
    from relance.store.repositories.stores import save_installation

    now = datetime.now(UTC)
    due = now - timedelta(hours=1)
    definitions = {
        "split": split_definition(),
        "post_purchase": TEMPLATES["post_purchase"].definition,
    }
    engine = create_db_engine(url)
    campaigns: dict[str, tuple[UUID, UUID]] = {}
    with Session(engine) as session, session.begin():
        store = save_installation(
            session,
            kind=StoreKind.DEMO,
            api_url="http://bench.test/graphql/",
            app_id="bench",
            auth_token=None,
            jwks=None,
            secrets=SecretBox(DEVELOPMENT_SECRET_KEY),
            now=now,
            name="Bench",
        )
        store.consent_mode = "opt_out"
        store_id = store.id
        for name, definition in definitions.items():
            campaign = Campaign(store_id=store_id, name=name, status=CampaignStatus.ACTIVE)
            session.add(campaign)
            session.flush()
            version = CampaignVersion(
                campaign_id=campaign.id,
                store_id=store_id,
                number=1,
                status=VersionStatus.PUBLISHED,
                definition=definition.model_dump(mode="json"),
                published_at=now,
            )
            session.add(version)
            session.flush()
            campaigns[name] = (campaign.id, version.id)

    line = LineItem(
        product_name="Linen shirt",
        sku="SHIRT-1",
        product_id="UHJvZHVjdDox",
        variant_id="UHJvZHVjdFZhcmlhbnQ6MQ==",
        quantity=2,
        unit_price="39.00",
        total_price="78.00",
        currency="EUR",
    )
    order = OrderSnapshot(
        order_id="T3JkZXI6MQ==",
        number="1001",
        created_at=due,
        channel="default-channel",
        currency="EUR",
        lines=(line, line.model_copy(update={"sku": "SOCKS-1", "product_name": "Socks"})),
        subtotal="117.00",
        total="122.00",
    )
    template = DomainEvent.model_validate(
        {
            "type": EventType.ORDER_PLACED,
            "idempotency_key": "order.placed:0",
            "occurred_at": due,
            "contact": {"email": "c0@bench.test", "first_name": "Ada"},
            "order": order,
        }
    )
    payload = template.model_dump(mode="json")
    context = template.context()
    split_campaign, split_version = campaigns["split"]

    with engine.begin() as connection:
        for start in range(0, n, INSERT_CHUNK):
            contacts, events, enrollments, traces = [], [], [], []
            for i in range(start, min(n, start + INSERT_CHUNK)):
                contact_id, event_id, enrollment_id = uuid4(), uuid4(), uuid4()
                email = f"c{i}@bench.test"
                contacts.append(
                    {
                        "id": contact_id,
                        "store_id": store_id,
                        "email": email,
                        "first_name": "Ada",
                        "language": SEEDED_LANGUAGES[i % len(SEEDED_LANGUAGES)],
                        "gender": ("female", "male", None)[i % 3],
                        "time_zone": SEEDED_TIME_ZONES[i % len(SEEDED_TIME_ZONES)],
                        "tags": [],
                        "custom_fields": {},
                        "consents": {},
                        "orders_count": 1,
                        "total_spent": "122.00",
                        "first_order_at": due,
                        "last_order_at": due,
                        "created_at": due,
                        "updated_at": due,
                    }
                )
                key = f"order.placed:{i}"
                events.append(
                    {
                        "id": event_id,
                        "store_id": store_id,
                        "type": "order.placed",
                        "idempotency_key": key,
                        "occurred_at": due,
                        "received_at": due,
                        "payload": {
                            **payload,
                            "idempotency_key": key,
                            "contact": {**payload["contact"], "email": email},
                        },
                        "status": "processed",
                        "processed_at": due,
                        "contact_id": contact_id,
                    }
                )
                enrollments.append(
                    {
                        "id": enrollment_id,
                        "store_id": store_id,
                        "campaign_id": split_campaign,
                        "version_id": split_version,
                        "contact_id": contact_id,
                        "event_id": event_id,
                        "status": "active",
                        "step_id": ENTRY_STEP,
                        "wake_at": due,
                        "deferrals": 0,
                        "context": context,
                        "trace_seq": 1,
                        "revision": 1,
                        "created_at": due,
                        "updated_at": due,
                    }
                )
                traces.append(
                    {
                        "id": uuid4(),
                        "enrollment_id": enrollment_id,
                        "seq": 1,
                        "at": due,
                        "step_id": ENTRY_STEP,
                        "action": "entered",
                        "detail": "",
                    }
                )
            connection.execute(insert(_table(Contact)), contacts)
            connection.execute(insert(_table(Event)), events)
            connection.execute(insert(_table(Enrollment)), enrollments)
            connection.execute(insert(_table(TraceRecord)), traces)
    engine.dispose()
    return Seeded(n=n, due=due, campaigns=campaigns)


def reset(url: str, seeded: Seeded, campaign: str) -> None:
    """Put every enrollment back at the entry step of ``campaign``, due, with only "entered"."""
    campaign_id, version_id = seeded.campaigns[campaign]
    engine = create_db_engine(url)
    enrollments = _table(Enrollment)
    with engine.begin() as connection:
        connection.execute(delete(_table(Message)))
        connection.execute(delete(_table(TraceRecord)).where(_table(TraceRecord).c.seq > 1))
        connection.execute(
            update(enrollments).values(
                campaign_id=campaign_id,
                version_id=version_id,
                status="active",
                step_id=ENTRY_STEP,
                wake_at=seeded.due,
                lease_until=None,
                deferrals=0,
                trace_seq=1,
                revision=1,
                ended_at=None,
                end_reason=None,
                updated_at=enrollments.c.created_at,
            )
        )
    # the next run starts clean: no reset rows left for it to write back (WAL, checkpoint) or to
    # skip over (dead tuples)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("VACUUM ANALYZE enrollments, enrollment_trace, messages")
            connection.exec_driver_sql("CHECKPOINT")
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


# --- the measured work, in a worker subprocess ------------------------------------------------


def _maxrss_mb() -> float:
    """This process's peak RSS in MiB: ``VmHWM``, which (unlike ``ru_maxrss``, inherited from
    the parent across fork and exec on Linux) counts only this process image."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _run_threads(threads: int, items: Sequence[Any], work: Any) -> tuple[float, Counter[str]]:
    """``work(item)`` for every item from ``threads`` threads; (seconds, errors by type)."""
    lock = threading.Lock()
    iterator = iter(items)
    errors: Counter[str] = Counter()

    def loop() -> None:
        while True:
            with lock:
                item = next(iterator, None)
            if item is None:
                return
            for attempt in range(3):  # as the actor's retries would
                try:
                    work(item)
                    break
                except Exception as error:
                    with lock:
                        if not errors:  # the first one in full, on the worker's stderr
                            print(f"{type(error).__name__}: {error}", file=sys.stderr)
                        errors[type(error).__name__ + ("" if attempt < 2 else " (gave up)")] += 1

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, errors


def _targets(engine: sa.Engine) -> list[tuple[UUID, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Enrollment.id, Contact.language)
            .join(Contact, Contact.id == Enrollment.contact_id)
            .order_by(Enrollment.wake_at, Enrollment.id)
        ).all()
    return [(row[0], expected_step("split", row[1])[0]) for row in rows]


def _raw_binders(engine: sa.Engine) -> tuple[str, Any, Any]:
    """(placeholder, id → DB-API value, aware datetime → DB-API value) as SQLAlchemy stores them."""
    if engine.dialect.name == "sqlite":  # Uuid as 32 hex chars, naive UTC text timestamps
        return "?", lambda i: i.hex, lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return "%s", lambda i: i, lambda d: d


def phase_raw(url: str, threads: int, batched: bool) -> dict[str, Any]:
    engine = create_db_engine(url)
    targets = _targets(engine)
    mark, as_id, as_time = _raw_binders(engine)
    now = datetime.now(UTC)
    wake, stamp = as_time(now + timedelta(days=2)), as_time(now)
    sql = f"UPDATE enrollments SET step_id = {mark}, wake_at = {mark}, updated_at = {mark} WHERE "
    local = threading.local()

    def connection() -> Any:
        if not hasattr(local, "connection"):
            local.connection = engine.raw_connection()
        return local.connection

    def per_row(item: tuple[UUID, str]) -> None:
        raw = connection()
        cursor = raw.cursor()
        cursor.execute(sql + f"id = {mark}", (item[1], wake, stamp, as_id(item[0])))
        raw.commit()
        cursor.close()

    def per_batch(batch: tuple[str, list[UUID]]) -> None:
        step, ids = batch
        raw = connection()
        cursor = raw.cursor()
        marks = ", ".join([mark] * len(ids))
        cursor.execute(sql + f"id IN ({marks})", (step, wake, stamp, *map(as_id, ids)))
        raw.commit()
        cursor.close()

    rss_start = _maxrss_mb()
    if batched:
        by_step: dict[str, list[UUID]] = {}
        for enrollment_id, step in targets:
            by_step.setdefault(step, []).append(enrollment_id)
        batches = [
            (step, ids[i : i + UPDATE_BATCH])
            for step, ids in by_step.items()
            for i in range(0, len(ids), UPDATE_BATCH)
        ]
        seconds, errors = _run_threads(1, batches, per_batch)
    else:
        seconds, errors = _run_threads(threads, targets, per_row)
    engine.dispose()
    return {
        "seconds": seconds,
        "items": len(targets),
        "errors": dict(errors),
        "rss_start_mb": rss_start,
        "peak_mb": _maxrss_mb(),
    }


class _Collect:
    """A dispatcher that keeps the enrollment ids the sweep hands out."""

    def __init__(self) -> None:
        self.enrollments: list[UUID] = []

    def process_event(self, event_id: UUID) -> None:
        pass

    def advance_enrollment(self, enrollment_id: UUID) -> None:
        self.enrollments.append(enrollment_id)

    def send_message(self, message_id: UUID) -> None:
        pass  # what a queued message would be handed to: recorded by nobody, sent by nobody


def phase_relance(url: str, threads: int, profile: bool) -> dict[str, Any]:
    from relance.runtime import Runtime
    from relance.settings import Settings
    from relance.store.crypto import SecretBox
    from relance.store.db import session_factory
    from relance.tasks.advancing import advance_enrollment
    from relance.tasks.sweep import sweep

    settings = Settings(database_url=url, data_dir=Path(tempfile.gettempdir()) / "relance-bench")
    engine = create_db_engine(url)
    dispatcher = _Collect()
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        dispatcher=dispatcher,
        email_transport=cast(Any, None),
        renderer=cast(Any, None),
        secrets=SecretBox(settings.secret_key),
    )
    statements = itertools.count()  # next() on it is atomic: safe from every thread
    sa.event.listen(engine, "before_cursor_execute", lambda *_: next(statements))
    rss_start = _maxrss_mb()
    started = time.perf_counter()
    sweeps = 0
    while sweep(runtime).enrollments:
        sweeps += 1
    sweep_seconds = time.perf_counter() - started
    ids = dispatcher.enrollments
    sweep_statements = next(statements)

    def work(enrollment_id: UUID) -> None:
        advance_enrollment(runtime, enrollment_id)

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        errors: Counter[str] = Counter()
        started = time.perf_counter()
        profiler.enable()  # in this thread: cProfile sees only the thread that enabled it
        for enrollment_id in ids:
            work(enrollment_id)
        profiler.disable()
        seconds = time.perf_counter() - started
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(30)
        stats.print_stats("src/relance/", 25)  # relance's own functions only
    else:
        seconds, errors = _run_threads(threads, ids, work)
    engine.dispose()
    return {
        "seconds": seconds,
        "items": len(ids),
        "distinct": len(set(ids)),
        "sweeps": sweeps,
        "sweep_seconds": sweep_seconds,
        #: SQL statements sent while advancing (BEGIN and COMMIT are not statements here)
        "statements": next(statements) - sweep_statements - 1,
        "errors": dict(errors),
        "rss_start_mb": rss_start,
        "peak_mb": _maxrss_mb(),
    }


def run_phase(phase: str, url: str, threads: int, profile: bool = False) -> dict[str, Any]:
    """Run one phase in a fresh ``python -m bench.enrollments --phase …`` and read its result."""
    command = [sys.executable, "-m", "bench.enrollments", "--phase", phase, "--url", url]
    command += ["--threads", str(threads)] + (["--profile"] if profile else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- checks ---------------------------------------------------------------------------------


def check(url: str, seeded: Seeded, campaign: str | None, since: datetime) -> list[str]:
    """Problems with the rows after a run (empty: every enrollment advanced once, correctly).

    ``campaign`` None checks a raw UPDATE run: every row at the split campaign's target step.
    """
    engine = create_db_engine(url)
    problems: list[str] = []
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Enrollment.id,
                Enrollment.step_id,
                Enrollment.wake_at,
                Enrollment.trace_seq,
                Enrollment.revision,
                Enrollment.status,
                Contact.language,
            ).join(Contact, Contact.id == Enrollment.contact_id)
        ).all()
        traces = Counter(
            connection.execute(
                select(TraceRecord.enrollment_id).where(TraceRecord.seq > 1)
            ).scalars()
        )
        messages = connection.execute(
            select(Message.enrollment_id, Message.step_id, Message.status)
        ).all()
    engine.dispose()
    if len(rows) != seeded.n:
        problems.append(f"{len(rows)} enrollments, expected {seeded.n}")
    wrong_step = sum(1 for r in rows if r.step_id not in expected_step(campaign or "split", r[6]))
    not_moved = sum(1 for r in rows if r.wake_at is None or r.wake_at <= since)
    if wrong_step:
        problems.append(f"{wrong_step} enrollments at the wrong step")
    if not_moved:
        problems.append(f"{not_moved} enrollments still due")
    if campaign is None:
        return problems
    inactive = sum(1 for r in rows if r.status != "active")
    if inactive:
        problems.append(f"{inactive} enrollments ended")
    steps = {"split": {3}, "post_purchase": {4, 5}}[campaign]  # entered + 2 | entered + 3 or 4
    bad_trace = sum(
        1 for r in rows if r.trace_seq not in steps or traces.get(r.id, 0) != r.trace_seq - 1
    )
    if bad_trace:
        problems.append(f"{bad_trace} enrollments whose trace says they did not advance once")
    if campaign == "post_purchase":
        language = {r.id: r[6] for r in rows}
        per_enrollment = Counter(m.enrollment_id for m in messages)
        wrong = sum(
            1
            for m in messages
            if m.step_id != f"thank_you_{_language_key(language.get(m.enrollment_id))}"
            or m.status != "pending"
        )
        if len(per_enrollment) != seeded.n or max(per_enrollment.values(), default=0) != 1:
            problems.append(f"{len(messages)} messages for {len(per_enrollment)} enrollments")
        if wrong:
            problems.append(f"{wrong} messages at the wrong step or status")
    elif messages:
        problems.append(f"{len(messages)} unexpected messages")
    return problems


def trace_entries(url: str) -> int:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        count = connection.execute(
            select(sa.func.count()).select_from(TraceRecord).where(TraceRecord.seq > 1)
        ).scalar_one()
    engine.dispose()
    return int(count)


def enrollment_updates(url: str) -> float:
    """Mean UPDATEs of each enrollment row (its optimistic revision counts them)."""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        mean = connection.execute(select(sa.func.avg(Enrollment.revision - 1))).scalar_one()
    engine.dispose()
    return float(mean or 0)


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: ``rate`` is enrollments (rows) per second."""

    database: str
    phase: str  #: raw | batched | sweep | relance
    campaign: str  #: the campaign the rows were set to ("" for the raw UPDATEs)
    threads: int
    items: int
    seconds: float
    steps: int | None
    rss_start_mb: float
    peak_mb: float
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def what(self) -> str:
        return {
            "raw": "raw UPDATE per row, own transaction",
            "batched": f"raw UPDATE … IN ({UPDATE_BATCH} ids) per transaction",
            "sweep": f"relance sweep() hand-out ({self.campaign})",
            "relance": f"relance advance_enrollment ({self.campaign})",
        }[self.phase]


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str | None]:
    """A fresh, migrated database URL (None when PostgreSQL is unreachable); dropped after."""
    from relance.store.migrate import upgrade

    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="relance-bench-", dir=workdir))
        try:
            url = f"sqlite:///{folder / 'relance.db'}"
            upgrade(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(sa.text(f'CREATE DATABASE "{PG_DATABASE}"'))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL skipped: unreachable at {PG_ADMIN} ({type(error).__name__})")
        admin.dispose()
        yield None
        return
    url = sa.engine.make_url(PG_ADMIN).set(database=PG_DATABASE).render_as_string(False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


def _errors(result: dict[str, Any]) -> list[str]:
    return [f"{name} x{count}" for name, count in result.get("errors", {}).items()]


def bench_database(
    kind: str,
    n: int,
    threads: Sequence[int],
    campaigns: Sequence[str],
    profile: bool,
    workdir: Path,
) -> list[Row]:
    """Seed one database, then measure the raw UPDATEs and relance on it, each on reset rows."""
    rows: list[Row] = []
    with database(kind, workdir) as url:
        if url is None:
            return rows
        started = time.perf_counter()
        seeded = seed(url, n)
        print(f"{kind}: seeded {n:,} enrollments in {time.perf_counter() - started:.1f} s")

        def measure(phase: str, campaign: str, used: int) -> dict[str, Any]:
            reset(url, seeded, campaign or "split")
            since = datetime.now(UTC)
            result = run_phase(phase, url, used, profile=profile)
            problems = check(url, seeded, campaign or None, since) + _errors(result)
            if phase == "relance":
                if result["distinct"] != n:
                    problems.append(f"the sweep handed out {result['distinct']} of {n}")
                rows.append(
                    Row(
                        kind,
                        "sweep",
                        campaign,
                        1,
                        result["items"],
                        result["sweep_seconds"],
                        None,
                        result["rss_start_mb"],
                        result["peak_mb"],
                        [],
                    )
                )
            steps = trace_entries(url) if phase == "relance" else None
            row = Row(
                kind,
                phase,
                campaign,
                used,
                result["items"],
                result["seconds"],
                steps,
                result["rss_start_mb"],
                result["peak_mb"],
                problems,
            )
            rows.append(row)
            print(
                f"  {row.what}, {used} threads: {row.rate:,.0f}/s in {row.seconds:.1f} s, "
                f"peak {row.peak_mb:.0f} MB — {'; '.join(problems) or 'correct'}",
                flush=True,
            )
            if steps is not None:
                print(
                    f"    per advance: {steps / n:.2f} steps, {result['statements'] / n:.1f} SQL "
                    f"statements, {enrollment_updates(url):.2f} UPDATEs of the enrollment "
                    f"row; sweep + advance "
                    f"{n / (row.seconds + result['sweep_seconds']):,.0f}/s",
                    flush=True,
                )
            return result

        measure("batched", "", 1)
        for used in threads:
            measure("raw", "", used)
            for campaign in campaigns:
                measure("relance", campaign, 1 if profile else used)
    return rows


def print_table(rows: Sequence[Row]) -> None:
    """The Markdown table docs/benchmarks.md shows; ratios are to the raw per-row UPDATE at the
    same thread count on the same database."""
    print()
    print(
        "| database | what | threads | rows/s | vs raw per-row | steps/s | seconds "
        "| worker RSS start → peak MiB | correct |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        raws = [r for r in rows if r.database == row.database and r.phase == "raw"]
        same = [r for r in raws if r.threads == row.threads] or raws
        ratio = f"{row.rate / same[0].rate:.3f}x" if same and same[0].rate else "-"
        steps = "-" if row.steps is None else f"{row.steps / row.seconds:,.0f}"
        print(
            f"| {row.database} | {row.what} | {row.threads} | {row.rate:,.0f} | {ratio} "
            f"| {steps} | {row.seconds:.1f} | {row.rss_start_mb:.0f} → {row.peak_mb:.0f} "
            f"| {'; '.join(row.problems) or 'yes'} |"
        )


def run(
    n: int,
    databases: Sequence[str],
    threads: Sequence[int] = (),
    campaigns: Sequence[str] = CAMPAIGNS,
    profile: bool = False,
    workdir: Path | None = None,
) -> list[Row]:
    """The whole benchmark; returns the table's rows (also printed).

    ``databases``: ``sqlite`` and/or ``postgresql``; ``threads``: worker thread counts to
    measure (empty: :data:`DEFAULT_THREADS`); ``workdir``: where the SQLite file goes.
    """
    print(f"# relance enrollments benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    print(f"# n={n:,} enrollments due at once; campaigns: {', '.join(campaigns)}", flush=True)
    if profile:
        print("# --profile: relance runs on 1 thread under cProfile (its overhead included)")
    rows: list[Row] = []
    for kind in databases:
        counts = list(threads) or [DEFAULT_THREADS[kind]]
        folder = workdir or Path(tempfile.gettempdir())
        rows += bench_database(kind, n, counts, campaigns, profile, folder)
    print_table(rows)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.enrollments")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--threads", default="", help="thread counts, comma-separated: 1,4,8")
    parser.add_argument("--campaign", choices=[*CAMPAIGNS, "both"], default="both")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--phase", choices=["raw", "batched", "relance"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    threads = [int(part) for part in args.threads.split(",") if part.strip()]
    if args.phase:  # a worker subprocess: one JSON line on stdout
        if args.phase == "relance":
            result = phase_relance(args.url, threads[0], args.profile)
        else:
            result = phase_raw(args.url, threads[0], batched=args.phase == "batched")
        print(json.dumps(result))
        return
    databases = {"sqlite": ["sqlite"], "postgres": ["postgresql"], "both": ["sqlite", "postgresql"]}
    campaigns = CAMPAIGNS if args.campaign == "both" else (args.campaign,)
    run(args.n, databases[args.db], threads, campaigns, args.profile)


if __name__ == "__main__":
    main()
