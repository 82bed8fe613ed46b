"""Bulk entry of the catalogue from a CSV file: every row is checked before anything is stored.

Columns (a header row, names in any order; those marked * are required):

| column | meaning |
| --- | --- |
| accession * | the reel's accession number, unique in the archive |
| collection * | the collection's name (created if new) |
| title * | the work's title (created in the collection if new, with `year`) |
| year | year of the work |
| director | director of the work |
| reel_number, reel_count | reel n of m (default 1 of 1) |
| gauge * | 8, super8, 9.5, 16, 35, 70 (also "35mm", "Super 8") |
| element * | camera_negative, dupe_negative, interpositive, internegative, fine_grain, print, reversal, magnetic_track, optical_track, other |
| base | nitrate, acetate, polyester, unknown (default unknown) |
| colour | bw, colour, tinted, mixed (default bw) |
| sound | silent, optical, magnetic, separate (default silent) |
| length_ft | length in feet, a whole number |
| frame_rate | frames per second (default 24) |
| vault_location, barcode | where the can lives and its label |
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from archive.models import Base, Colour, Element, Gauge, Reel, Sound

REQUIRED = ("accession", "collection", "title", "gauge", "element")
KNOWN = REQUIRED + ("year", "director", "reel_number", "reel_count", "base", "colour", "sound",
                    "length_ft", "frame_rate", "vault_location", "barcode")
GAUGE_ALIASES = {"8mm": "8", "super 8": "super8", "super-8": "super8", "s8": "super8",
                 "9.5mm": "9.5", "16mm": "16", "35mm": "35", "70mm": "70"}


@dataclass
class InventoryRow:
    line: int
    collection: str
    title: str
    year: int | None
    director: str
    reel: dict[str, Any]


@dataclass
class InventoryResult:
    rows: list[InventoryRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _choice(value: str, choices: type, column: str, default: str | None = None) -> str:
    value = value.strip().lower().replace(" ", "_") if value else ""
    if not value and default is not None:
        return default
    if value in choices.values:
        return value
    raise ValueError(f"{column} {value!r} is not one of {', '.join(choices.values)}")


def _int(value: str, column: str, default: int | None, minimum: int = 0) -> int | None:
    value = value.strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{column} {value!r} is not a whole number") from None
    if number < minimum:
        raise ValueError(f"{column} {number} is below {minimum}")
    return number


def parse_inventory(path: Path) -> InventoryResult:
    """Read and check an inventory CSV; `errors` holds one line per bad row ("line N: ...")."""
    result = InventoryResult()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append(f"{path}: not UTF-8 text ({exc})")
        return result
    except OSError as exc:
        result.errors.append(f"{path}: {exc.strerror}")
        return result
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in KNOWN]
    if missing or unknown:
        if missing:
            result.errors.append(f"line 1: missing column(s) {', '.join(missing)}")
        if unknown:
            result.errors.append(f"line 1: unknown column(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(KNOWN)}")
        return result
    reader.fieldnames = header
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if None in raw:
            result.errors.append(f"line {line}: more values than columns")
            continue
        row = {k: (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        try:
            result.rows.append(_check_row(row, line, seen))
        except ValueError as exc:
            result.errors.append(f"line {line}: {exc}")
    existing = set(Reel.objects.filter(
        accession__in=[r.reel["accession"] for r in result.rows]).values_list("accession", flat=True))
    for r in result.rows:
        if r.reel["accession"] in existing:
            result.errors.append(f"line {r.line}: accession {r.reel['accession']} is already catalogued")
    if not result.rows and not result.errors:
        result.errors.append(f"{path}: no rows to import")
    result.errors.sort(key=lambda e: int(e.split(":")[0].split()[-1]) if e.startswith("line ") else 0)
    return result


def _check_row(row: dict[str, str], line: int, seen: dict[str, int]) -> InventoryRow:
    for column in REQUIRED:
        if not row.get(column):
            raise ValueError(f"{column} is empty")
    accession = row["accession"]
    if len(accession) > 64 or "/" in accession:
        raise ValueError(f"accession {accession!r} must be at most 64 characters with no '/'")
    if accession in seen:
        raise ValueError(f"accession {accession} appears again (first on line {seen[accession]})")
    seen[accession] = line
    gauge_raw = row["gauge"].strip().lower()
    gauge = _choice(GAUGE_ALIASES.get(gauge_raw, gauge_raw), Gauge, "gauge")
    reel_number = _int(row.get("reel_number", ""), "reel_number", 1, minimum=1)
    reel_count = _int(row.get("reel_count", ""), "reel_count", 1, minimum=1)
    if reel_number > reel_count:
        raise ValueError(f"reel_number {reel_number} is more than reel_count {reel_count}")
    try:
        frame_rate = Decimal(row.get("frame_rate") or "24")
    except InvalidOperation:
        raise ValueError(f"frame_rate {row.get('frame_rate')!r} is not a number") from None
    if not (Decimal("1") <= frame_rate <= Decimal("1000")):
        raise ValueError(f"frame_rate {frame_rate} is outside 1-1000")
    year = _int(row.get("year", ""), "year", None, minimum=1870)
    if year is not None and year > 2100:
        raise ValueError(f"year {year} is after 2100")
    return InventoryRow(
        line=line, collection=row["collection"][:200], title=row["title"][:300], year=year,
        director=row.get("director", "")[:200],
        reel={
            "accession": accession, "reel_number": reel_number, "reel_count": reel_count,
            "gauge": gauge, "element": _choice(row["element"], Element, "element"),
            "base": _choice(row.get("base", ""), Base, "base", Base.UNKNOWN),
            "colour": _choice(row.get("colour", ""), Colour, "colour", Colour.BW),
            "sound": _choice(row.get("sound", ""), Sound, "sound", Sound.SILENT),
            "length_ft": _int(row.get("length_ft", ""), "length_ft", None),
            "frame_rate": frame_rate,
            "vault_location": row.get("vault_location", "")[:100],
            "barcode": row.get("barcode", "")[:64],
        },
    )
