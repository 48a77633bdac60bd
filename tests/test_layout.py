"""The README's Layout section against the tree: every module of the package is named there (under its
package's folder), and every file and folder it names exists."""

from __future__ import annotations

import re

from tests.harness import ROOT

PACKAGE = ROOT / "mnist_demo"


def layout() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Layout"):]
    return section[section.index("```") + 3:section.index("```", section.index("```") + 3)]


def entries() -> dict[str, str]:
    """Each folder the block lists (its line starts at the folder's indentation) -> the text of its entry."""
    found, current = {}, None
    for line in layout().splitlines():
        match = re.match(r"^(\s*)([\w.]+/)\s", line + " ")
        if match and len(match.group(1)) in (0, 2):
            current = ("mnist_demo/" if match.group(1) else "") + match.group(2)
            found[current] = line
        elif current is not None and line.startswith(" " * 24):
            found[current] += " " + line.strip()
    return found


def test_every_module_is_named_in_its_folder():
    folders = entries()
    top_level = {name for line in re.findall(r"(?m)^  ([\w.]+(?:, [\w.]+)*)\s", layout()) for name in line.split(", ")}
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if path.name == "__init__.py" and relative.parent != PACKAGE.relative_to(ROOT) / "models":
            continue
        if relative.parent == PACKAGE.relative_to(ROOT):
            named = path.name in top_level
        else:
            named = re.search(rf"\b{re.escape(path.name)}\b", folders.get(f"{relative.parent}/", ""))
        if not named:
            missing.append(str(relative))
    assert missing == []


def test_every_name_in_the_layout_exists():
    block = layout()
    names = set(re.findall(r"[\w]+\.(?:py|toml|md|conf)\b", block)) - {"__init__.py"}
    files = {p.name for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts and "venv" not in str(p)}
    assert len(names) > 40 and sorted(names - files) == []
    folders = {m for m in re.findall(r"(?m)^\s*([\w]+)/", block)}
    assert all((ROOT / f).is_dir() or (PACKAGE / f).is_dir() for f in folders), folders
