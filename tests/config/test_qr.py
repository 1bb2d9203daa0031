"""config/qr.py: page codes are drawn once per data; ballot slips are never kept in memory."""

from __future__ import annotations

import base64

from config import qr


def test_a_page_code_is_drawn_once_for_the_same_data():
    qr.qr_svg.cache_clear()
    first = qr.qr_svg("https://example.org/cadres/join/abc/")
    again = qr.qr_svg("https://example.org/cadres/join/abc/")
    assert again is first and first.startswith("<svg")
    assert qr.qr_svg.cache_info().hits == 1
    assert qr.qr_svg("https://example.org/cadres/join/abd/") != first


def test_a_ballot_slip_is_drawn_each_time_and_leaves_nothing_in_the_cache():
    qr.qr_svg.cache_clear()
    code = "https://example.org/surveys/vote/?code=ABCD-EFGH-JKMN"
    uri = qr.qr_data_uri(code)
    assert qr.qr_svg.cache_info().currsize == 0  # the code is not kept in the process
    svg = base64.b64decode(uri.removeprefix("data:image/svg+xml;base64,")).decode()
    assert svg == qr.qr_svg(code, box_size=8)  # the same drawing as a page's
