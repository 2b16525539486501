"""The README and the docs link only to files inside the repository, and every such file exists: a
user who clones the repository finds no dead link (turn 2 found the README pointing at
../shared/DESIGN.md, outside the repository)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "Bench" / "README.md", ROOT / "Tests" / "e2e" / "README.md",
            *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_resolves_inside_the_repository():
    problems = []
    checked = 0
    for doc in documents():
        if not doc.exists():
            continue
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue   # a web address or an anchor in the same file
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            checked += 1
            if ROOT not in path.parents and path != ROOT:
                problems.append(f"{doc.relative_to(ROOT)}: {target} points outside the repository")
            elif not path.exists():
                problems.append(f"{doc.relative_to(ROOT)}: {target} does not exist")
    assert checked >= 3, "the link scan found almost nothing to check"
    assert problems == []


def test_the_readme_links_the_map_of_the_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/architecture.md)" in readme
    assert "shared/DESIGN" not in readme
