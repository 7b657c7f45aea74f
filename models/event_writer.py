"""Group commit for fund flow events arriving one per request (the web API).

Every entry extends one hash chain, so appends are serialised (``lock_chain``); if each request
ran its own transaction, the chain lock would be held through every request's reads, checks and
commit in turn. Instead each process has one writer thread: requests queue their event and wait;
the writer takes everything queued, plans all of it against the ledger in one transaction (each
event still checked on its own, in arrival order, seeing the ones before it, exactly as the rows
of a flows file are), posts the accepted ones and commits once, then answers each request.

An event refused by a rule gets its own error and does not affect the others. If the batch's
transaction fails as a whole (a database error), each of its events is retried alone, so one
event can never fail another.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy import Engine

from ledger.flows import FlowEvent
from ledger.flows_import import FlowRow
from models.flows_store import BOOKS, fund_key, journal_key, plan_events, record_event, stored_events
from models.ledger_store import PostResult, get_entry, post_entries

#: The most events one transaction takes; the rest wait for the next.
BATCH_MAX = 200


@dataclass(frozen=True, slots=True)
class _Request:
    event: FlowEvent
    recorded_by: str
    answer: Future


class EventWriter:
    """One per engine and process; ``record`` is safe to call from any number of threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, event: FlowEvent, recorded_by: str) -> tuple[PostResult, bool]:
        """Record one event; returns (result, created) like ``flows_store.record_event`` and
        raises the same errors."""
        answer: Future = Future()
        self._queue.put(_Request(event, recorded_by, answer))
        self._start()
        return answer.result()

    def _start(self) -> None:
        with self._started:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fuel-event-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH_MAX:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except Exception:  # the batch failed as a whole: each event alone, so none fails another
                for request in batch:
                    if not request.answer.done():
                        self._write_alone(request)

    def _write(self, batch: list[_Request]) -> None:
        rows = [FlowRow(i, request.event) for i, request in enumerate(batch)]
        answers: dict[int, tuple] = {}
        with self._engine.begin() as conn:
            plan = plan_events(conn, rows, BOOKS.books(conn))
            for problem in plan.problems:
                answers[problem.row] = ("error", problem.error)
            if plan.already:
                stored = stored_events(conn, [k for r in plan.already for k in (r.event.idempotency_key,
                                                                                 fund_key(r.event))])
                first_of_key: dict[str, int] = {}
                for item, draft in plan.drafts:
                    first_of_key.setdefault(draft.idempotency_key, item.row)
                for item in plan.already:
                    key = journal_key(item.event, stored)  # the fund's own key (models/flows_store.py)
                    if key in stored:
                        answers[item.row] = ("ok", PostResult(get_entry(conn, stored[key][0]), created=False), False)
                    else:  # a duplicate, within this batch, of an event posted just now
                        answers[item.row] = ("same-as", first_of_key[key])
            # Post in arrival order, one call per run of the same recorder.
            drafts = list(plan.drafts)
            start = 0
            while start < len(drafts):
                end = start
                recorder = batch[drafts[start][0].row].recorded_by
                while end < len(drafts) and batch[drafts[end][0].row].recorded_by == recorder:
                    end += 1
                results = post_entries(conn, [draft for _, draft in drafts[start:end]], recorder)
                for (item, _), result in zip(drafts[start:end], results):
                    answers[item.row] = ("ok", result, result.created)
                start = end
        for row, request in enumerate(batch):
            answer = answers[row]
            if answer[0] == "error":
                request.answer.set_exception(answer[1])
            elif answer[0] == "same-as":
                result = answers[answer[1]][1]
                request.answer.set_result((PostResult(result.entry, created=False), False))
            else:
                request.answer.set_result((answer[1], answer[2]))

    def _write_alone(self, request: _Request) -> None:
        try:
            with self._engine.begin() as conn:
                result, created = record_event(conn, request.event, request.recorded_by)
        except BaseException as exc:  # handed to the waiting request, which reports it
            request.answer.set_exception(exc)
        else:
            request.answer.set_result((result, created))
