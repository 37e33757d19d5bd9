"""Generate the synthetic district: true people and enterprises, department extracts, ground truth.

``generate_district(out_dir)`` writes:

- ``persons.csv`` and ``enterprises.csv``: the true values (what entity resolution should recover);
- one file per department extract (see :data:`EXTRACT_BUILDERS`), each in its own columns, date
  styles, encoding and format, with noise at fixed rates;
- ``ground_truth.csv`` (``file,row,role,entity_type,entity_id``): one line per mention, ``row`` the
  1-based data record in the file (title and header rows not counted), ``role`` empty for the row's
  subject or ``guardian`` / ``legal_rep`` / ``employer`` / ``spouse``;
- ``noise.csv`` (``file,row,role,field,kind``): every deliberate difference from the truth;
- ``manifest.json``: :meth:`DistrictManifest.to_dict` without ``out_dir``, so two runs with the same
  seed give the same bytes wherever they are written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from govlink.demo import enterprise_extracts, person_extracts
from govlink.demo.enterprises import Enterprises, assign_employers, draw_enterprises
from govlink.demo.population import REFERENCE_DATE, Population, draw_population
from govlink.demo.vocabulary import load_vocabulary
from govlink.demo.world import FULL, BuiltExtract, World, enterprise_addresses, render_addresses
from govlink.demo.writers import write_extract

Progress = Callable[[str, float], None]
ExtractBuilder = Callable[[World, np.random.Generator], BuiltExtract]

# In this order; each builder draws from its own child seed, so adding one leaves the others unchanged.
EXTRACT_BUILDERS: tuple[ExtractBuilder, ...] = (
    person_extracts.ga_household_register,
    person_extracts.ga_floating_population,
    person_extracts.rs_social_insurance,
    person_extracts.mz_social_assistance,
    person_extracts.mz_marriage,
    person_extracts.wj_health_records,
    person_extracts.jy_students,
    enterprise_extracts.sc_enterprise_register,
    enterprise_extracts.sw_tax_register,
    enterprise_extracts.hb_discharge_permits,
)
GROUND_TRUTH_COLUMNS = ("file", "row", "role", "entity_type", "entity_id")
NOISE_COLUMNS = ("file", "row", "role", "field", "kind")


@dataclass(frozen=True, slots=True)
class ExtractInfo:
    """One department extract as written: where, how and what it holds."""

    department_code: str
    file_name: str
    title: str
    format: str  # csv | tsv | xlsx | jsonl
    encoding: str | None  # Python codec name; None for xlsx
    rows: int  # data records, not counting title or header rows
    subject: str  # person | enterprise
    columns: tuple[str, ...]
    title_rows: int = 0  # xlsx: rows above the header
    # What columns hold: header -> field ("id_number", "birth_date", ...; "guardian.id_number" for a role).
    fields: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "department_code": self.department_code,
            "file_name": self.file_name,
            "title": self.title,
            "format": self.format,
            "encoding": self.encoding,
            "rows": self.rows,
            "subject": self.subject,
            "columns": list(self.columns),
            "title_rows": self.title_rows,
            "fields": dict(self.fields),
        }


@dataclass(frozen=True, slots=True)
class DistrictManifest:
    """What ``generate_district`` wrote."""

    seed: int
    persons: int
    enterprises: int
    out_dir: Path
    extracts: tuple[ExtractInfo, ...]
    households: int = 0
    reference_date: str = REFERENCE_DATE.isoformat()

    def extract(self, file_name: str) -> ExtractInfo:
        for info in self.extracts:
            if info.file_name == file_name:
                return info
        raise KeyError(f"no extract {file_name!r}; written: {', '.join(e.file_name for e in self.extracts)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "persons": self.persons,
            "enterprises": self.enterprises,
            "households": self.households,
            "reference_date": self.reference_date,
            "out_dir": str(self.out_dir),
            "extracts": [e.to_dict() for e in self.extracts],
        }


def generate_district(
    out_dir: Path,
    *,
    persons: int = 20_000,
    enterprises: int | None = None,
    seed: int = 42,
    progress: Progress | None = None,
) -> DistrictManifest:
    """Write a synthetic 杭州市西湖区 into ``out_dir`` (created if needed); the same seed gives the same bytes.

    ``enterprises`` defaults to ``persons // 10`` (at least one). ``progress`` is called with a stage
    name and the fraction of the work done (0.0–1.0).
    """
    if persons < 1:
        raise ValueError(f"persons must be at least 1, got {persons}")
    n_enterprises = max(1, persons // 10) if enterprises is None else enterprises
    if n_enterprises < 1:
        raise ValueError(f"enterprises must be at least 1, got {n_enterprises}")
    report = progress or (lambda stage, fraction: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(3 + len(EXTRACT_BUILDERS))
    rngs = [np.random.default_rng(s) for s in seeds]

    vocab = load_vocabulary()
    report("population", 0.0)
    pop = draw_population(rngs[0], vocab, persons)
    report("enterprises", 0.15)
    ent = draw_enterprises(rngs[1], vocab, pop, n_enterprises)
    employer, ent = assign_employers(rngs[2], pop, ent)
    world = World(vocab, pop, ent, employer)
    report("truth", 0.25)
    _write_persons(out_dir / "persons.csv", world)
    _write_enterprises(out_dir / "enterprises.csv", world)

    infos: list[ExtractInfo] = []
    truth: list[tuple[str, int, str, str, str]] = []
    noise_log: list[tuple[str, int, str, str, str]] = []
    for k, build in enumerate(EXTRACT_BUILDERS):
        built = build(world, rngs[3 + k])
        spec, table = built.spec, built.table
        write_extract(out_dir / spec.file_name, spec, table.headers, table.columns())
        report(spec.file_name, 0.3 + 0.65 * (k + 1) / len(EXTRACT_BUILDERS))
        infos.append(
            ExtractInfo(
                spec.department_code,
                spec.file_name,
                spec.title,
                spec.format,
                spec.encoding,
                table.size,
                spec.subject,
                tuple(table.headers),
                len(spec.title_rows),
                tuple(table.fields()),
            )
        )
        name = spec.file_name
        for row in range(table.size):
            for mention in table.mentions:
                entity = mention.ids[row]
                if entity is not None:
                    truth.append((name, row + 1, mention.role, mention.entity_type, entity))
        for row in sorted(table.noise):
            noise_log.extend((name, row + 1, role, field, kind) for role, field, kind in table.noise[row])

    report("ground truth", 0.97)
    _write_csv(out_dir / "ground_truth.csv", GROUND_TRUTH_COLUMNS, truth)
    _write_csv(out_dir / "noise.csv", NOISE_COLUMNS, noise_log)
    manifest = DistrictManifest(seed, persons, n_enterprises, out_dir, tuple(infos), len(pop.household_ids))
    document = {k: v for k, v in manifest.to_dict().items() if k != "out_dir"}
    (out_dir / "manifest.json").write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report("done", 1.0)
    return manifest


def _write_csv(path: Path, header: tuple[str, ...], rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _iso(ordinals: list[int]) -> list[str]:
    return [dt.date.fromordinal(o).isoformat() if o > 0 else "" for o in ordinals]


PERSON_COLUMNS = (
    "person_id", "household_id", "relation", "name", "surname", "given_name", "gender", "birth_date",
    "id_number", "ethnicity", "local_hukou", "phone", "street", "community", "address",
    "previous_address", "moved_on", "employer_id", "guardian_id", "spouse_id",
)  # fmt: skip


def _write_persons(path: Path, world: World) -> None:
    pop: Population = world.pop
    vocab, ent = world.vocab, world.ent
    hh = pop.household.tolist()
    households = range(len(pop.household_ids))
    home = render_addresses(vocab, pop.home, households, FULL)
    before = render_addresses(vocab, pop.previous, households, FULL)
    moved = pop.moved.tolist()
    moved_on = _iso(pop.moved_on.tolist())
    street = [vocab.streets[s].name for s in pop.home.street.tolist()]

    def ref(ids: list[str], index: list[int]) -> list[str]:
        return [ids[i] if i >= 0 else "" for i in index]

    columns = [
        pop.ids,
        [pop.household_ids[h] for h in hh],
        pop.relation,
        pop.name,
        pop.surname,
        pop.given,
        ["M" if m else "F" for m in pop.male.tolist()],
        _iso(pop.birth.tolist()),
        pop.id_number,
        pop.ethnicity,
        ["true" if x else "false" for x in pop.local.tolist()],
        pop.phone,
        [street[h] for h in hh],
        [pop.home.community[h] for h in hh],
        [home[h] for h in hh],
        [before[h] if moved[h] else "" for h in hh],
        [moved_on[h] for h in hh],
        ref(ent.ids, world.employer.tolist()),
        ref(pop.ids, pop.guardian.tolist()),
        ref(pop.ids, pop.partner.tolist()),
    ]
    _write_csv(path, PERSON_COLUMNS, zip(*columns, strict=True))


ENTERPRISE_COLUMNS = (
    "enterprise_id", "name", "old_name", "renamed_on", "form", "uscc", "old_tax_id", "industry",
    "legal_rep_id", "registered_on", "status", "deregistered_on", "capital_10k_yuan", "address", "employees",
)  # fmt: skip


def _write_enterprises(path: Path, world: World) -> None:
    ent: Enterprises = world.ent
    pop = world.pop
    everyone = np.arange(ent.size, dtype=np.int64)
    columns = [
        ent.ids,
        ent.name,
        ent.old_name,
        _iso(ent.renamed_on.tolist()),
        ent.form,
        ent.uscc,
        ent.old_tax_id,
        ent.industry,
        [pop.ids[p] for p in ent.legal_rep.tolist()],
        _iso(ent.registered_on.tolist()),
        ent.status(),
        _iso(ent.deregistered_on.tolist()),
        [f"{c:g}" if c else "" for c in ent.capital.tolist()],
        enterprise_addresses(world, everyone, "浙江省杭州市西湖区"),
        ent.employees.tolist(),
    ]
    _write_csv(path, ENTERPRISE_COLUMNS, zip(*columns, strict=True))
