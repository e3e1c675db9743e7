"""The layering table of docs/architecture.md holds: no module imports a layer its own may not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "podium"
DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _table() -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    layers: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| (`[^|]+`) \| [^|]+ \| ([^|]+) \|$", line)
        if not m:
            continue
        names = re.findall(r"`([a-z_]+)`", m.group(1))
        rule = m.group(2).strip()
        for name in names:
            layers.append(name)
            if rule.startswith("every layer above"):
                allowed[name] = set(layers[:-1]) - {name}
            elif rule.startswith("every layer"):
                allowed[name] = {"*"}
            else:
                allowed[name] = set(re.findall(r"`([a-z_]+)`", rule))
    return allowed


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for n in names:
            parts = n.split(".")
            if parts[0] == "podium" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_the_table_names_every_layer():
    table = _table()
    on_disk = {_layer_of(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert on_disk <= set(table), f"layers missing from docs/architecture.md: {sorted(on_disk - set(table))}"


def test_no_module_imports_a_layer_it_may_not():
    table = _table()
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        layer = _layer_of(path)
        if layer not in table or "*" in table[layer]:
            continue
        for other in _imported_layers(path) - {layer} - table[layer]:
            bad.append(f"{path.relative_to(SRC)} imports podium.{other} ({layer} may import "
                       f"{', '.join(sorted(table[layer])) or 'nothing'})")
    assert not bad, "\n".join(bad)
