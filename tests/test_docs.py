"""Every ```python block of README.md and docs/**/*.md runs, page by page, in one namespace.

A page's blocks run in order in a temporary working directory (files they save land there),
with matplotlib's Agg backend. A block preceded by `<!-- needs-data: NAME -->` needs a data set
that must be downloaded; it runs only when `HISTCAST_DATA` names a directory holding NAME
(then its `download(...)` call is skipped and the data are read from there), else it is
skipped with a reason. No test here reaches the network.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# pages whose examples fit several networks or a backtest: over ~10 s on 2 cores
SLOW = {"README.md", "docs/guide/backtesting.md", "docs/guide/ensembles.md"}
FENCE = re.compile(
    r"^(?:<!--\s*needs-data:\s*(?P<data>[\w,\s]+?)\s*-->\n)?```python\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


def blocks(page: Path) -> list[tuple[int, list[str], str]]:
    """(line, data sets needed, code) of every python block of `page`."""
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        needs = [n.strip() for n in (match["data"] or "").split(",") if n.strip()]
        found.append((line, needs, match["code"]))
    return found


def test_the_block_parser_sees_markers():
    page = "text\n<!-- needs-data: epf -->\n```python\nx = 1\n```\n```python\ny = 2\n```\n"
    matches = list(FENCE.finditer(page))
    assert [(m["data"], m["code"]) for m in matches] == [("epf", "x = 1\n"), (None, "y = 2\n")]


def offline(code: str, data: Path) -> str:
    """The block with its downloads replaced by the local copy in `data`."""
    code = re.sub(r"^.*\.download\(.*$", "", code, flags=re.MULTILINE)
    return re.sub(r'"data"', repr(str(data)), code)


def page_params():
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        if not blocks(page):
            continue
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(page, id=name, marks=marks)


@pytest.mark.parametrize("page", page_params())
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    data = os.environ.get("HISTCAST_DATA")
    namespace: dict = {"__name__": "__docs__"}
    ran, skipped = 0, []
    try:
        for line, needs, code in blocks(page):
            missing = [n for n in needs if not (data and (Path(data) / n).is_dir())]
            if missing:
                skipped.append(f"line {line} needs {', '.join(missing)} (set HISTCAST_DATA)")
                continue
            if needs:
                code = offline(code, Path(data))
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
            except Exception as err:
                where = f"{page.relative_to(ROOT)}, block at line {line}"
                raise AssertionError(f"{where}: {err!r}") from err
            ran += 1
    finally:
        close_figures()
    if skipped:
        pytest.skip(f"ran {ran} blocks; skipped " + "; ".join(skipped))


def close_figures() -> None:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    plt.close("all")
