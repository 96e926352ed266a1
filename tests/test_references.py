"""Every arXiv citation in the library carries a version (equation numbers move between versions).

The scanner reads the sources of ``analytic/``, ``numeric/``, ``verify/`` and ``examples/`` as
text and finds each arXiv identifier written as ``arXiv:ID``, ``arXiv ID``,
``arxiv.org/abs/ID`` (or ``/pdf/``) or ``arxiv="ID"`` (a :class:`analytic.references.Reference`
entry) whose ``ID`` is not followed by ``vN``. An identifier whose version could not be
confirmed may stay unversioned only through ``UNCONFIRMED`` below, with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytic.references import REFERENCES, reference

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("analytic", "numeric", "verify", "examples")

# arXiv ids (new style, 2007 on: YYMM.NNNN or YYMM.NNNNN) after one of the spellings above,
# not followed by another digit (a 4-digit prefix of a 5-digit id) or by a version "vN".
_UNVERSIONED = re.compile(
    r"""(?ix)
        (?: arxiv \s*:\s* | arxiv \s+ | arxiv\.org/(?:abs|pdf)/ | arxiv \s*=\s* ["'] )
        (?P<id>\d{4}\.\d{4,5})
        (?!\d|v\d)
    """)

# Identifiers allowed without a version, each with why its version could not be confirmed.
# Empty: every id cited in the scanned folders has a version confirmed with the search tool
# (listing pages, versioned PDF headers or other works citing the version).
UNCONFIRMED: dict[str, str] = {}


def unversioned_ids(text: str) -> list[str]:
    """The arXiv identifiers in ``text`` that are cited without a version."""
    return [m.group("id") for m in _UNVERSIONED.finditer(text)]


def _scanned_files():
    for folder in SCANNED:
        yield from sorted((ROOT / folder).rglob("*.py"))
        yield from sorted((ROOT / folder).rglob("*.md"))


def test_scanner_flags_planted_unversioned_citations():
    # negative control: each spelling, planted without a version, is caught ...
    planted = ('Zhu et al. 2023, arXiv:2210.03294, sec. 4; see https://arxiv.org/abs/1503.05671 and '
               'arxiv.org/pdf/1905.11604.pdf; Reference("A", 2020, "T", arxiv="1810.10667"); arXiv 1703.04730')
    assert unversioned_ids(planted) == ["2210.03294", "1503.05671", "1905.11604", "1810.10667", "1703.04730"]
    # ... a 4-digit prefix of a versioned 5-digit id is not mistaken for an unversioned id ...
    assert unversioned_ids("arXiv:2210.03294v2, arxiv.org/abs/1503.05671v7, arxiv='1810.10667v2'") == []
    # ... and old 4-digit-number ids are caught too
    assert unversioned_ids("(arXiv:1408.3595)") == ["1408.3595"]


def test_every_scanned_arxiv_citation_has_a_version():
    found = {}
    for path in _scanned_files():
        for arxiv_id in unversioned_ids(path.read_text(encoding="utf-8")):
            if arxiv_id not in UNCONFIRMED:
                found.setdefault(arxiv_id, []).append(str(path.relative_to(ROOT)))
    assert not found, f"arXiv ids cited without a version (add the confirmed version): {found}"


def test_allow_list_is_still_needed():
    # an allow-listed id that is no longer cited unversioned anywhere must leave the list
    cited = {i for path in _scanned_files() for i in unversioned_ids(path.read_text(encoding="utf-8"))}
    assert set(UNCONFIRMED) <= cited, f"stale entries in UNCONFIRMED: {set(UNCONFIRMED) - cited}"


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_reference_table_pins_versions(key):
    ref = reference(key)
    assert ref.arxiv or ref.venue, f"{key}: neither an arXiv id nor a venue"
    if ref.arxiv and ref.arxiv.split("v")[0] not in UNCONFIRMED:
        assert re.fullmatch(r"\d{4}\.\d{4,5}v\d+", ref.arxiv), f"{key}: arXiv id {ref.arxiv!r} has no version"
