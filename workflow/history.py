"""The reel's event log: appending hash-chained events, and checking the chain later.

Each event's hash is SHA-256 over a canonical JSON of its facts and the previous event's hash.
The reel row keeps the number of events and the last hash, so a row changed, inserted or
deleted behind the application's back shows up in `verify_reel`. (Someone who can rewrite the
whole chain *and* the reel row can hide it; anchoring head hashes outside the database, for
example in printed audit reports, closes that gap.)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch

from archive.models import Reel
from workflow.models import Event


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(work: dict[str, Any]) -> str:
    """SHA-256 (hex) of a work record's canonical JSON: what a sign-off is bound to."""
    return hashlib.sha256(canonical_json(work).encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: Event) -> str:
    facts = {
        "reel": event.reel_id,
        "seq": event.seq,
        "run": event.run_id,
        "stage": event.stage,
        "verb": event.verb,
        "actor": event.actor_id,
        "actor_name": event.actor_name,
        "from": event.from_state,
        "to": event.to_state,
        "reason": event.reason,
        "digest": event.digest,
        "data": event.data,
        "at": _iso(event.created_at),
        "prev": event.prev_hash,
    }
    return hashlib.sha256(canonical_json(facts).encode("utf-8")).hexdigest()


def append_event(reel: Reel, verb: str, **facts: Any) -> Event:
    """Append one event to a reel whose row the caller holds locked (`select_for_update`)."""
    from django.utils import timezone

    moment = timezone.now()
    # Read the chain's head from the row, not the caller's object: another step of the same
    # transaction (a job run inline, say) may have appended since the object was loaded.
    count, head = Reel.objects.filter(pk=reel.pk).values_list("event_count", "head_hash").get()
    event = Event(
        reel=reel,
        seq=count + 1,
        verb=verb,
        created_at=moment,
        prev_hash=head,
        **facts,
    )
    if event.actor is not None and not event.actor_name:
        event.actor_name = event.actor.get_username()
    event.hash = event_hash(event)
    event.save()
    Reel.objects.filter(pk=reel.pk).update(event_count=event.seq, head_hash=event.hash)
    reel.event_count, reel.head_hash = event.seq, event.hash
    return event


@dataclass(frozen=True)
class Problem:
    accession: str
    event: int | None  # the event's number in its reel's history (seq), None for the reel itself
    problem: str

    def as_dict(self) -> dict[str, Any]:
        return {"accession": self.accession, "event": self.event, "problem": self.problem}


def verify_reel(reel: Reel, events: list[Event]) -> list[Problem]:
    """Check one reel's events (in seq order) against each other and the reel's anchor."""
    problems: list[Problem] = []

    def note(seq: int | None, text: str) -> None:
        problems.append(Problem(reel.accession, seq, text))

    expected_seq, prev = 1, ""
    for event in events:
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                missing = f"{expected_seq}" if event.seq == expected_seq + 1 else (
                    f"{expected_seq}-{event.seq - 1}")
                note(event.seq, f"event(s) {missing} missing before this one: deleted")
            else:
                note(event.seq, f"out of order: expected event {expected_seq}")
        if event.prev_hash != prev:
            note(event.seq, "does not link to the event before it: an event was inserted, "
                            "deleted or changed")
        if event_hash(event) != event.hash:
            note(event.seq, "its contents do not match its hash: the row was changed")
        expected_seq, prev = event.seq + 1, event.hash
    count = len(events)
    if count != reel.event_count:
        note(None, f"the reel records {reel.event_count} events but {count} are stored: "
                   "events were inserted or deleted")
    if prev != reel.head_hash:
        note(None, "the last stored event is not the one the reel records as its head")
    return problems


@dataclass
class Verification:
    reels_checked: int
    events_checked: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reels_checked": self.reels_checked,
            "events_checked": self.events_checked,
            "problems": [p.as_dict() for p in self.problems],
        }


def verify_history(reels: Any = None, batch: int = 200) -> Verification:
    """Verify every reel's chain (or the given queryset's), a batch of reels at a time."""
    queryset = (reels if reels is not None else Reel.objects.all()).order_by("pk")
    result = Verification(0, 0, [])
    last_pk = 0
    while True:
        chunk = list(
            queryset.filter(pk__gt=last_pk).prefetch_related(
                Prefetch("events", queryset=Event.objects.order_by("seq", "pk"))
            )[:batch]
        )
        if not chunk:
            break
        for reel in chunk:
            events = list(reel.events.all())
            result.reels_checked += 1
            result.events_checked += len(events)
            result.problems.extend(verify_reel(reel, events))
        last_pk = chunk[-1].pk
    return result
