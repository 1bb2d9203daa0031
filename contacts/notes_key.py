"""When two contact notes are "the same note" (padding detection's same_text, issue 13).

A note is compared normalised: the contact's youths' names taken out (a note pasted over many
contacts with each youth's name typed in, "与王芳进行了深入交流…", is still one note), then
case, digits, whitespace and punctuation removed ("走访3组青年。" and "走访 5 组青年" are the
same). Each writer of a contact's notes stores the result with it (Contact.notes_key, a 64-bit
hash of the text, and Contact.notes_chars, its length), so the nightly detection groups a
province quarter's notes by an integer instead of running a regexp over ~760,000 notes and
joining ~1 M contact-youth rows for the names (most of its time).

Writers: contacts.services (contact_log, contact_update), the demo and benchmark loaders;
migration 0008 backfilled older rows with `backfill_sql` (the same rule in SQL).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Characters removed besides ASCII digits; lower() takes care of case.
PUNCT = "，。、！？：；“”‘’（）【】《》—…·,.!?:;'\"()[]<>-_/\\ \t\r\n"
_DROP = {ord(c): None for c in "0123456789" + PUNCT}
MIN_NAME_CHARS = 2  # a one-character "name" would strip that character from every note


def normalise(text: str | None) -> str:
    return (text or "").lower().translate(_DROP)


def notes_key(notes: str, names: Iterable[str]) -> tuple[int | None, int | None]:
    """(key, chars) of a contact's note; (None, None) without a note. The names are the
    contact's youths' (longest first, so "王芳芳" goes before "王芳"). The key is the first 8
    bytes of the text's md5 as a signed integer: PostgreSQL computes the same in
    `backfill_sql`."""
    if not notes:
        return None, None
    text = notes
    for name in sorted({n for n in names if len(n) >= MIN_NAME_CHARS}, key=len, reverse=True):
        text = text.replace(name, "")
    norm = normalise(text)
    digest = hashlib.md5(norm.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True), len(norm)


def backfill_sql() -> str:
    """notes_key as one UPDATE of every hand-typed contact with a note (PostgreSQL; parameter
    `punct` = "0123456789" + PUNCT). Names are removed with one regexp alternation of the
    contact's youths' names, longest first, escaped."""
    names = """(SELECT string_agg(regexp_replace(y.name, '([][(){}.*+?^$|\\\\])', '\\\\\\1', 'g'),
                        '|' ORDER BY length(y.name) DESC, y.name)
            FROM contacts_contactyouth cy JOIN cadres_youth y ON y.id = cy.youth_id
            WHERE cy.contact_id = ct.id AND length(y.name) >= %(min_name)s)"""
    norm = f"""translate(lower(COALESCE(regexp_replace(ct.notes, {names}, '', 'g'), ct.notes)),
                     %(punct)s, '')"""
    return f"""UPDATE contacts_contact ct
SET notes_key = ('x' || left(md5(n.norm), 16))::bit(64)::bigint, notes_chars = length(n.norm)
FROM (SELECT ct.id, {norm} AS norm FROM contacts_contact ct
      WHERE ct.notes <> '' AND ct.activity_id IS NULL) n
WHERE ct.id = n.id"""


def backfill_params() -> dict:
    return {"punct": "0123456789" + PUNCT, "min_name": MIN_NAME_CHARS}
