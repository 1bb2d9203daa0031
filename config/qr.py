"""QR codes drawn on the server as SVG (no script, so the strict Content Security Policy holds):
the one way every page makes one — contact cards, 见面码, share links, activity sign-up and
check-in, the asker's status link, ballot slips."""

from __future__ import annotations

import base64
import functools

from django.utils.safestring import SafeString, mark_safe


def _draw(data: str, box_size: int, error_correction: int | None) -> SafeString:
    import qrcode
    import qrcode.image.svg

    options = {} if error_correction is None else {"error_correction": error_correction}
    image = qrcode.make(
        data, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size, border=2, **options
    )
    return mark_safe(image.to_string(encoding="unicode"))


# The same data draws the same code, and drawing one costs ~25 ms of CPU (qrcode's mask
# search): a cadre's card, activity codes and status links are drawn again on every view, the
# 见面码 screen every 20 s within its minute. A few hundred drawings of ~10 KB each.
@functools.lru_cache(maxsize=256)
def qr_svg(data: str, *, box_size: int = 10, error_correction: int | None = None) -> SafeString:
    """An inline <svg> of `data`. Safe to print unescaped: qrcode writes it, not the user."""
    return _draw(data, box_size, error_correction)


def qr_data_uri(data: str, *, box_size: int = 8, error_correction: int | None = None) -> str:
    """The same drawing as a data: URI for an <img> (slips printed and cut apart).

    Never cached: the slips carry ballot codes and the scrutineers' key shares, which must not
    outlive the request in the process's memory (docs/ballot-anonymity.md); each is drawn once."""
    svg = _draw(data, box_size, error_correction)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
