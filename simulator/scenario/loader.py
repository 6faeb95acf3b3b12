"""Load a scenario file, apply overrides, validate it and every variant, report all problems.

This is the edge where untrusted YAML becomes typed specs. Everything wrong is collected
(YAML syntax, schema, dangling names, cycles, CSV profiles, bad variant paths) and raised
together as one ``ScenarioError``, so one ``cascade validate`` shows every fix to make.

Overrides from ``--set`` are applied to the base data and again after each variant's own
overrides, so the command line wins over a variant that sets the same key.

Every variant is resolved here, once: the ``Scenario`` keeps each variant's validated spec (CSV
profiles read into it), and those specs are what runs and experiment workers receive. Nothing
validates or reads a file again per run.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.scenario.catalog import builtin_scenarios, find_builtin
from simulator.scenario.csvprofile import ProfileCache, with_csv_points
from simulator.scenario.locations import Keys, YamlLines
from simulator.scenario.messages import validation_problems
from simulator.scenario.overrides import apply_overrides, parse_set_option
from simulator.scenario.partial import partial_problems
from simulator.scenario.problems import Problem, ScenarioError, join_path, key_path, suggest
from simulator.scenario.references import unreachable_components
from simulator.scenario.schema import ScenarioSpec
from simulator.scenario.variants import DEFAULT_VARIANT, declared_variants
from simulator.scenario.yamlread import MAX_FILE_BYTES, LimitError, load_limited

Override = str | tuple[str, Any]
"""``"components.app.replicas=8"`` as typed on the command line, or an already parsed pair."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file and the way to get each of its variants.

    Attributes:
        source: The file as shown in messages (``scenarios/x.yaml``, or ``<dict>``).
        base_dir: Directory that relative paths in the scenario (CSV profiles) start from.
        raw: The data as read, with ``--set`` overrides applied; never mutated.
        spec: The validated base scenario.
        variant_names: Variant names in file order; ``["base"]`` when the file has none.
        overrides: The ``--set`` overrides, as (path, value) pairs, re-applied after each variant.
        warnings: Legal but suspicious things (components no workload reaches), formatted like
            problems: ``FILE:LINE: components.cache: warning: ...``. They do not stop a run.
        variant_specs: Each declared variant's validated spec (its overrides, then ``--set``).
        profiles: The CSV profiles this load read (resolved path -> rows), reused by
            :meth:`with_overrides` so that derived scenarios do not read them again.
    """

    source: str
    base_dir: Path
    raw: dict[str, Any]
    spec: ScenarioSpec
    variant_names: list[str]
    overrides: tuple[tuple[str, Any], ...] = ()
    warnings: tuple[Problem, ...] = ()
    variant_specs: Mapping[str, ScenarioSpec] = field(default_factory=dict)
    profiles: ProfileCache = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.spec.name

    def resolve(self, variant: str | None = None) -> ScenarioSpec:
        """The spec of one variant, as validated at load (no work is done again).

        ``None``, and ``"base"`` unless a variant has that name, give the base scenario.

        Raises:
            ScenarioError: No variant has that name (the known ones are listed).
        """
        if variant is None or (variant == DEFAULT_VARIANT and variant not in self.variant_specs):
            return self.spec
        spec = self.variant_specs.get(variant)
        if spec is None:
            known = list(self.variant_specs)
            message = f"no variant named '{variant}'; known variants: {', '.join(self.variant_names)}"
            raise ScenarioError([Problem(self.source, "variants", message + suggest(variant, known))])
        return spec

    def with_overrides(self, pairs: Sequence[Override]) -> Scenario:
        """This scenario with more ``--set``-style overrides (they win over variants, like
        ``--set``), validated again; CSV profiles already read are reused, not read again."""
        return _scenario(self.raw, self.source, self.base_dir, [*self.overrides, *pairs], None,
                         self.profiles)


def load_scenario(path_or_builtin_name: str | Path, overrides: Sequence[Override] = ()) -> Scenario:
    """Read, validate and return a scenario file, or a built-in scenario by name.

    Raises:
        ScenarioError: Every problem found, each naming the file, the line and key path where the
            file has it, and the expectation.
    """
    path = locate_scenario(path_or_builtin_name)
    source = _display(path, path_or_builtin_name)
    data, lines = _read_yaml_lines(path, source)
    return _scenario(data, source, path.parent, overrides, lines)


def scenario_from_dict(data: Any, *, source: str = "<dict>", base_dir: Path | None = None,
                       overrides: Sequence[Override] = ()) -> Scenario:
    """Validate already-parsed scenario data (and all its variants) into a ``Scenario``.

    There is no file to point into, so problems name the key path but no line.
    """
    return _scenario(data, source, base_dir, overrides, None)


def _scenario(data: Any, source: str, base_dir: Path | None, overrides: Sequence[Override],
              lines: YamlLines | None, profiles: ProfileCache | None = None) -> Scenario:
    profiles = {} if profiles is None else profiles
    base_dir = Path.cwd() if base_dir is None else Path(base_dir)
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem(source, "", "expected a mapping with name, duration, workload and "
                                                 f"components at the top level; got {_kind(data)}")])
    pairs = _parse_overrides(overrides)
    raw, issues = apply_overrides(data, pairs)
    problems = [Problem(source, "--set", f"{path}: {message}") for path, message in issues]
    spec, found = _validate(raw, source, base_dir, profiles)
    problems += found
    variant_specs: dict[str, ScenarioSpec] = {}
    for name in declared_variants(raw):
        variant_spec, variant_problems = _check_variant(raw, name, pairs, source, base_dir, profiles,
                                                        paths_only=spec is None, reported=issues)
        problems += variant_problems
        if variant_spec is not None:
            variant_specs[name] = variant_spec
    if spec is None or problems:
        raise ScenarioError(_in_file_order(_with_lines(problems, lines, data, raw)))
    warnings = _with_lines(_unreached(source, variant_specs or {DEFAULT_VARIANT: spec}), lines, data, raw)
    return Scenario(source, base_dir, raw, spec, list(declared_variants(raw)) or [DEFAULT_VARIANT], pairs,
                    tuple(warnings), variant_specs, profiles)


def _unreached(source: str, specs: Mapping[str, ScenarioSpec]) -> list[Problem]:
    """A warning per component that no workload reaches in the variants that run (all of them, or
    the base when there are none); the variants are named when only some of them miss it."""
    missed: dict[str, list[str]] = {}
    for variant, spec in specs.items():
        for name in unreachable_components(spec.workload, spec.components):
            missed.setdefault(name, []).append(variant)
    warnings = []
    for name, variants in missed.items():
        some = f" in variant{'s' * (len(variants) > 1)} {', '.join(variants)}"
        where = "" if len(variants) == len(specs) else some
        message = f"warning: no workload reaches this component{where} (its metrics will be empty)"
        warnings.append(Problem(source, f"components.{name}", message))
    return warnings


def locate_scenario(path_or_builtin_name: str | Path) -> Path:
    """The file to load: an existing path, else the built-in scenario of that name."""
    path = Path(path_or_builtin_name)
    if path.is_file():
        return path
    builtin = find_builtin(path.name) if len(path.parts) == 1 else None
    if builtin is not None:
        return builtin
    if path.is_dir():
        raise ScenarioError([Problem(str(path), "", "is a directory; expected a scenario YAML file")])
    names = [entry.name for entry in builtin_scenarios()]
    known = f"; built-in scenarios: {', '.join(names)}" if names else ""
    raise ScenarioError([Problem(str(path), "", f"no such file, and no built-in scenario of that name{known}"
                                                + suggest(path.stem, names))])


def read_yaml(path: Path, source: str) -> Any:
    """Parse a YAML file safely (no object construction); syntax errors and duplicate keys become a
    problem with line and column."""
    return _read_yaml_lines(path, source)[0]


def _read_yaml_lines(path: Path, source: str) -> tuple[Any, YamlLines]:
    """``read_yaml``, plus where each key and list entry is written in the file.

    The file's size, nesting and alias expansion are limited (see ``yamlread``): a hostile file is
    refused before it is expanded, in a fraction of a second.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = (f"not read: the file has {size / 2**20:.1f} MiB; scenario files are limited "
                       f"to {MAX_FILE_BYTES // 2**20} MiB")
            raise ScenarioError([Problem(source, "", message)])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(source, "", f"cannot read the file: {error}")]) from None
    try:
        data, lines = load_limited(text, YamlLines.from_node)
    except LimitError as error:
        raise ScenarioError([Problem(source, "", f"not read: {error}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(source, "", _yaml_message(error))]) from None
    if data is None or lines is None:
        raise ScenarioError([Problem(source, "", "the file is empty; expected a mapping with name, duration, "
                                                 "workload and components")])
    return data, lines


def _with_lines(problems: list[Problem], lines: YamlLines | None, data: Any, raw: Any) -> list[Problem]:
    """The problems, each with the line of its key path when the file has that path."""
    if lines is None:
        return problems
    return [dataclasses.replace(problem, line=_line(problem.path, lines, data, raw)) for problem in problems]


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems by line, then those the file does not write (``--set`` values, paths a variant
    leaves alone); the order found is kept among problems on the same line and without lines."""
    return sorted(problems, key=lambda problem: float("inf") if problem.line is None else problem.line)


def _line(path: str, lines: YamlLines, data: Any, raw: Any) -> int | None:
    """The line of ``path``, else of its nearest ancestor in the file; ``None`` when neither says it.

    A variant problem outside that variant's overrides, or a place whose value came from ``--set``
    rather than the file, gets no line: pointing into the file there would mislead.
    """
    if path.startswith("--set"):
        return None
    line, keys, whole = lines.locate(path)
    if line is None or (not whole and keys[0] == "variants" and len(keys) <= 2):
        return None
    return line if _at(data, keys) == _at(raw, keys) else None


def _at(data: Any, keys: Keys) -> Any:
    for key in keys:
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
            data = data[key]
        else:
            return _ABSENT
    return data


_ABSENT = object()


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"invalid YAML{where}: {problem}"


def _parse_overrides(overrides: Sequence[Override]) -> tuple[tuple[str, Any], ...]:
    """Parse every ``--set`` text, reporting all malformed ones together."""
    pairs, problems = [], []
    for item in overrides:
        try:
            pairs.append(parse_set_option(item) if isinstance(item, str) else (str(item[0]), item[1]))
        except ScenarioError as error:
            problems += error.problems
    if problems:
        raise ScenarioError(problems)
    return tuple(pairs)


def _check_variant(raw: dict[str, Any], name: str, pairs: Iterable[tuple[str, Any]], source: str,
                   base_dir: Path, profiles: ProfileCache, *,
                   paths_only: bool = False, reported: Iterable[tuple[str, str]] = ()
                   ) -> tuple[ScenarioSpec | None, list[Problem]]:
    """Apply a variant's overrides (then ``--set`` again) and validate the result.

    Problems are reported under ``variants.NAME``, with list entries shown by name as the overrides
    address them. With ``paths_only`` (the base itself is invalid) only the override paths are
    checked: schema problems would just repeat the base's; so would ``--set`` paths that failed on
    the base already (``reported``).
    """
    where = f"variants.{name}"
    overrides = declared_variants(raw).get(name) or {}
    if not isinstance(overrides, Mapping):
        return None, []  # the schema reports variants.NAME: expected a mapping
    data, issues = apply_overrides(raw, overrides)
    data, more = apply_overrides(data, pairs)
    more = [issue for issue in more if issue not in set(reported)]
    problems = [Problem(source, where, f"{path}: {message}") for path, message in issues + more]
    if problems or paths_only:
        return None, problems
    return _validate(data, source, base_dir, profiles, prefix=where, by_name=True)


def _validate(data: dict[str, Any], source: str, base_dir: Path, profiles: ProfileCache, *,
              prefix: str = "", by_name: bool = False) -> tuple[ScenarioSpec | None, list[Problem]]:
    """Validate one variant's data into a spec, its CSV profiles read into it (once per load: a
    CSV read a bad row fails validation instead of a run hours later, and a run is a pure function
    of its spec, so a worker on another machine needs no copy of the file)."""
    try:
        spec = ScenarioSpec.model_validate(copy.deepcopy(data))
    except ValidationError as error:
        problems = validation_problems(error, data, ScenarioSpec, file=source, prefix=prefix, by_name=by_name)
        problems += [Problem(source, join_path(prefix, key_path(data, loc, by_name=by_name)), message)
                     for loc, message in partial_problems(data)]
        return None, list(dict.fromkeys(problems))
    spec, errors = with_csv_points(spec, base_dir, profiles)
    problems = [Problem(source, join_path(prefix, key_path(data, ("workload", index, "profile", "path"),
                                                           by_name=by_name)), message)
                for index, message in errors]
    return (None if problems else spec), problems


def _display(path: Path, given: str | Path) -> str:
    """The file as the user will recognise it: as typed, or relative to the working directory."""
    if Path(given) == path:
        return str(given)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _kind(value: Any) -> str:
    kinds = {list: "a list", str: "text", int: "a number", float: "a number"}
    return kinds.get(type(value), type(value).__name__)
