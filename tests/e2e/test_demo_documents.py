"""The documents `fuel demo` writes, looked at as a reader sees them: every investor and council
PDF is rasterised (pdftoppm) and read back (pdftotext). Charts must not be black shapes (they
were: weasyprint ignores page CSS inside inline SVG), their labels must be whole and in pounds,
and no table may lose a column off the page edge. Page images go to artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots" / "pdf"

pytestmark = pytest.mark.skipif(not shutil.which("pdftoppm") or not shutil.which("pdftotext"),
                                reason="needs poppler-utils (pdftoppm, pdftotext)")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = subprocess.run([sys.executable, "-m", "ledger.shell.cli", "demo", "--out", str(out),
                             "--participants", "240", "--seed", "11"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def pdfs(out: Path) -> list[Path]:
    found = sorted((out / "investors").glob("*.pdf")) + sorted((out / "councils").glob("*.pdf"))
    assert len(found) == 4 + 6, found
    return found


def text_of(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def words_of(pdf: Path) -> list[tuple[int, str, float, float, float, float]]:
    """(page, word, x_min, y_min, x_max, y_max) in points, from ``pdftotext -bbox``."""
    found, page = [], 0
    for line in text_of(pdf, "-bbox").splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line)
        if match:
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            found.append((page, match.group(5), x0, y0, x1, y1))
    return found


def dark_fraction(pdf: Path, page: int, x: float, y: float, w: float, h: float) -> float:
    """Share of near-black pixels in a region of a page (points), rasterised at 72 dpi as PGM."""
    raw = subprocess.run(["pdftoppm", "-gray", "-r", "72", "-f", str(page), "-l", str(page),
                          "-x", str(int(x)), "-y", str(int(y)), "-W", str(int(w)), "-H", str(int(h)), str(pdf)],
                         capture_output=True, check=True).stdout
    header = raw.split(b"\n", 3)  # P5, width height, maxval, pixels
    pixels = header[3]
    return sum(1 for p in pixels if p < 80) / max(1, len(pixels))


def chart_titles(pdf: Path) -> list[str]:
    if "/investors/" in str(pdf):
        return ["Your capital account (NAV) at each quarter end", "Outcomes achieved to date by project",
                "Outcome payments earned to date by project"]
    return ["Net payment by outcome, this statement", "Paid to date against cap"]


def test_every_pdf_page_is_written_as_an_image_for_review(out):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs(out):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(SCREENSHOTS / pdf.stem)], check=True)
        assert list(SCREENSHOTS.glob(f"{pdf.stem}-*.png"))


def test_pdf_charts_are_drawn_in_colour_not_black_and_their_labels_are_whole(out):
    for pdf in pdfs(out):
        words = words_of(pdf)
        for title in chart_titles(pdf):
            first = title.split()[0:3]
            starts = [i for i in range(len(words) - 2) if [w[1] for w in words[i:i + 3]] == first]
            assert starts, f"{pdf.name}: chart {title!r} not in the PDF text"
            page, _, x0, y0, _, _ = words[starts[0]]
            # the chart below its title: 640 x 200 CSS px is 480 x 150 pt
            share = dark_fraction(pdf, page, x0, y0 + 14, 470, 140)
            assert share < 0.08, f"{pdf.name}: chart {title!r} is {share:.0%} black"
        text = text_of(pdf)
        assert not re.search(r"\b\d{5,} / \d{5,}\b", text), f"{pdf.name}: raw pence in a chart label"
        if "/investors/" in str(pdf):
            for quarter in ("2024Q1", "2024Q4", "2025Q3", "2025Q4"):  # axis labels whole, not "2025Q"
                assert re.search(rf"\b{quarter}\b", text), f"{pdf.name}: axis label {quarter} cut"
            assert re.search(r"£\d{1,3}(,\d{3})*\.\d\d", text), f"{pdf.name}: chart amounts not in pounds"
            assert "Young people leaving homelessness:" in " ".join(text.split())  # names, not ids
        else:
            assert re.search(r"£\d{1,3}(,\d{3})*\.\d\d of £\d", text), f"{pdf.name}: cap chart not in pounds"


class _Headers(HTMLParser):
    """Column headers of every table in a document."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "th":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if text:
                self.headers.append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_no_table_loses_a_column_off_the_page(out):
    for pdf in pdfs(out):
        parser = _Headers()
        parser.feed(pdf.with_suffix(".html").read_text(encoding="utf-8"))
        assert len(parser.headers) > 10
        words = words_of(pdf)
        on_page = " ".join(w for _, w, _, _, _, _ in words)
        widths = {p: float(m) for p, m in enumerate(re.findall(r'<page width="([\d.]+)"', text_of(pdf, "-bbox")), 1)}
        assert all(x1 <= widths[page] + 0.5 for page, _, _, _, x1, _ in words), f"{pdf.name}: text off the page"
        # raw order keeps a wrapped header's lines together ("outcome value" / "cap")
        raw = " ".join(text_of(pdf, "-raw").split())
        for header in parser.headers:
            assert header in raw or all(word in on_page for word in header.split()), f"{pdf.name}: column {header!r} lost"
        if "/councils/" in str(pdf):
            assert "outcome value cap" in raw and re.search(r"payer cap Net\b", raw), f"{pdf.name}: By outcome cut"
