"""The padding signals' thresholds (assessment/integrity.py): defaults, and the version's own.

They belong to the scoring policy version like the weights (ScoringPolicy.integrity): a stored
version keeps its numbers, a key added later takes its default. Each comment says what real
padding or real honest work the number is drawn from; none is fitted to the benchmark's
generator (assessment/padding_bench/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations (models imports this module for its defaults)
    from .models import ScoringPolicy

DEFAULT_THRESHOLDS: dict[str, float] = {
    # burst: min_entries consecutive entries (by created_at) within (min_entries - 1) ×
    # gap_seconds. Logging a real contact on the phone takes a minute or more; a list typed
    # from memory or copied goes faster.
    "burst_gap_seconds": 60,
    "burst_min_entries": 12,
    # A shorter sitting needs a faster pace to count: fast_min_entries within
    # (fast_min_entries - 1) × fast_gap_seconds. Filling in the form (youth, channel, topic) on
    # a phone takes about half a minute at the quickest; eight entries faster than that are a
    # list pasted or typed, not contacts recalled one by one.
    "burst_fast_gap_seconds": 30,
    "burst_fast_min_entries": 8,
    # same_text: notes normalised (the contact's youths' names, case, digits, spaces and
    # punctuation removed); one text of at least min_chars characters over min_contacts contacts
    # and min_share of the cadre's contacts with notes.
    "text_min_chars": 8,
    "text_min_contacts": 12,
    "text_min_share": 0.4,
    # end_dump: contacts entered in the period's last last_days days (or after it) that are
    # dated at least lag_days before their entry.
    "dump_last_days": 7,
    "dump_lag_days": 7,
    "dump_min_contacts": 15,
    "dump_min_share": 0.4,
    # ... or this many whatever the share: about three weeks of an average cadre's logging
    # (5 M contacts a year over 10,000 cadres is ~40 a month), entered in the last week about
    # contacts more than a week old, is a dump even when the cadre logged a lot besides.
    "dump_any_share_contacts": 30,
    # backdated: contacts entered at least days after their date.
    "backdate_days": 30,
    "backdate_min_contacts": 15,
    "backdate_min_share": 0.5,
    # ghost_youths: youths reached in the period with no youth-side evidence ever (check-in,
    # a need they raised, a confirmation) AND a phone that is missing, invalid, shared by at
    # least shared_phone_youths youths, or within sequential_gap of another of the cadre's.
    "ghost_shared_phone_youths": 4,
    "ghost_sequential_gap": 3,
    "ghost_min_youths": 10,
    "ghost_min_share": 0.3,
    # A missing phone alone is weak (many real youths give none): youths counted with one make
    # the signal only when, with the others, they are this share of the youths reached.
    "ghost_missing_min_share": 0.6,
    # batch_log: one face-to-face contact typed by hand (not derived from an activity's
    # check-ins) with more youths than this (a talk or visit / any other offline contact).
    "batch_talk_max_youths": 20,
    "batch_offline_max_youths": 50,
    # quota_jump: distinct youths reached in the period land within slack above the quota,
    # and at least min_share of the quota were first reached in the last last_days days.
    "quota_jump_last_days": 10,
    "quota_jump_slack": 2,
    "quota_jump_min_share": 0.4,
    # denials: youths who answered "没有这回事"; same_device: confirmations from the device
    # the cadre is logged in on.
    "denials_min": 2,
    "same_device_min": 1,
    # Evidence kept per signal (ids); the counts are always complete.
    "evidence_cap": 20,
}


def thresholds_of(policy: ScoringPolicy | None) -> dict[str, float]:
    """The policy's thresholds over the defaults (a key added later has its default)."""
    return {**DEFAULT_THRESHOLDS, **(getattr(policy, "integrity", None) or {})}


def thresholds_of_values(values: dict) -> dict[str, float]:
    """Thresholds for a new policy version: known keys only, numbers not below 0."""
    out = dict(DEFAULT_THRESHOLDS)
    for key, value in (values or {}).items():
        if key in out and isinstance(value, int | float) and value >= 0:
            out[key] = value
    return out
