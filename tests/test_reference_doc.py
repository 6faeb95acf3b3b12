"""docs/reference.md is what the schema generates, and documents every kind and key of it.

The reference is generated (``simulator.reference_doc``) so it cannot drift: when a spec model
gains, loses or changes a key, the committed file no longer matches and the first test says how
to regenerate it.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.reference_doc import REGENERATE, _full, _members, _models_in, _tag, reference_markdown
from simulator.scenario.faults import FaultSpec
from simulator.scenario.mitigations import MitigationSpec
from simulator.scenario.schema import ComponentSpec, ScenarioSpec

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "reference.md"


@pytest.fixture(scope="module")
def generated() -> str:
    return reference_markdown()


def _all_models() -> list[type]:
    """Every spec model a scenario file can contain, found by walking the annotations."""
    seen: list[type] = []
    todo = [ScenarioSpec]
    while todo:
        model = todo.pop()
        if model not in seen:
            seen.append(model)
            todo += [child for info in model.model_fields.values() for child in _models_in(_full(info))]
    return seen


def test_committed_reference_is_what_the_schema_generates(generated):
    """A schema change without regenerating the reference fails here, with the one-line fix."""
    committed = COMMITTED.read_text(encoding="utf-8")
    if committed != generated:
        diff = "\n".join(list(difflib.unified_diff(committed.splitlines(), generated.splitlines(),
                                                   "docs/reference.md", "generated", lineterm=""))[:30])
        pytest.fail(f"docs/reference.md is out of date with the scenario schema; regenerate it with:\n"
                    f"    {REGENERATE}\n{diff}")


def test_regeneration_command_writes_the_same_bytes(generated):
    """The command in the failure message really produces the file (stdout, no extra newline)."""
    out = subprocess.run([sys.executable, "-m", "simulator", "schema", "--markdown"], cwd=ROOT,
                         capture_output=True, check=True).stdout
    assert out.decode("utf-8") == generated
    assert REGENERATE == "python -m simulator schema --markdown > docs/reference.md"


def test_schema_without_flag_still_prints_json_schema():
    """``cascade schema`` alone keeps its JSON output (editors rely on it)."""
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "ScenarioSpec"


def test_every_model_and_key_has_a_row_with_a_meaning(generated):
    """Each spec model has its own table holding each of its keys; every key but a kind selector
    has a meaning (an attribute docstring), so no key is documented by its name alone."""
    tables = _tables(generated)
    undocumented = []
    for model in _all_models():
        rows = tables[f"spec-{model.__name__.lower()}"]
        for name, info in model.model_fields.items():
            key = info.alias or name
            assert f"`{key}`" in rows, f"{model.__name__}.{key} has no row"
            selector = _tag(model) is not None and _tag(model)[0] == key
            if not info.description and not selector:
                undocumented.append(f"{model.__name__}.{key}")
    assert not undocumented, f"keys without a docstring (their meaning): {undocumented}"


@pytest.mark.parametrize("union", [ComponentSpec, FaultSpec, MitigationSpec], ids=["components", "faults",
                                                                                  "mitigations"])
def test_every_kind_has_its_heading(generated, union):
    """Components, faults and mitigations are listed kind by kind (``### `kind: crash` ``)."""
    kinds = [_tag(model)[1] for model in _members(union)]
    assert len(kinds) >= 4
    for kind in kinds:
        assert f"### `kind: {kind}`" in generated


def test_units_and_defaults_are_stated(generated):
    """Spot checks against the models: a duration in seconds with its default, a rate per second,
    a required key."""
    rows = _tables(generated)
    assert rows["spec-healthcheckspec"]["`interval`"] == ["duration > 0", "s", "`5`"]
    assert rows["spec-poissonarrivalsspec"]["`rate`"] == ["rate > 0", "1/s", "**required**"]
    assert rows["spec-servicespec"]["`replicas`"] == ["integer >= 1", "", "`1`"]
    assert rows["spec-crashfaultspec"]["`for`"][:2] == ["duration > 0", "s"]  # the alias, not the attribute


def test_every_link_points_at_an_anchor(generated):
    """Type cells link to the model or section they name; none dangles."""
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', generated))
    anchors |= {re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")
                for title in re.findall(r"^## (.+)$", generated, flags=re.M)}
    targets = set(re.findall(r"\]\(#([^)]+)\)", generated))
    assert targets and targets <= anchors, sorted(targets - anchors)


def _tables(text: str) -> dict[str, dict[str, list[str]]]:
    """anchor -> key -> [type, unit, default] for each model table in the document."""
    tables: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if match := re.match(r'<a id="([^"]+)"></a>', line):
            current = tables.setdefault(match.group(1), {})
        elif line.startswith("| `"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            current[cells[0]] = cells[1:4]
    return tables
