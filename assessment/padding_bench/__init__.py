"""A banner-scale dataset with padding planted in a known, random 10 % of cadres, for
`benchmark_integrity` (issue 13, "measured, not asserted") and the demo's padded cadres.

Written from a description of how padding and honest busy weeks look in practice, NOT from
assessment/integrity.py: nothing here imports its thresholds, and the ranges are the
generator's own (its own random draws per cadre, intensities that sometimes fall below what a
signal can see). Honest cadres include the legitimately busy: an activity with 60 check-ins,
a quarter-end campaign week, a Sunday catch-up of the week's logs, family phones, a cadre back
from training entering two weeks late, habitual short topics, a branch meeting of 30–45.

Padding patterns (each padded cadre gets one to three, with random intensity):
- sitting: invented contacts typed from a list in one go, seconds apart;
- copy_paste: one note pasted over many contacts, varied by a number, punctuation or (half the
  time) the youth's name;
- end_dump: contacts dated across the quarter, entered in its last days or just after;
- ghosts: invented youths (phones in a block, missing, one shared number, malformed), each
  "contacted" online once or twice;
- big_meeting: one hand-typed talk or visit with 25–90 youths;
- quota_fill: just enough new youths in the last days to land on the quota.

The package: `words` (the vocabulary), `generator` (the answer key, the generator's primitives and
the bulk writes), `honest` (ordinary quarters and busy weeks), `padded` (the padding patterns),
`dataset` (build, clear, score).
"""

from __future__ import annotations

from .dataset import ROOT_NAME, build, clear, score
from .generator import Truth, _Gen, _write_contacts
from .padded import PATTERNS

__all__ = ["PATTERNS", "ROOT_NAME", "Truth", "_Gen", "_write_contacts", "build", "clear", "score"]
