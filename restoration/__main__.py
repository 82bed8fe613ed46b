"""`python -m restoration inspect PATH [--sequence PATTERN] [--json] [--manifest DIR]`

Also `analyze`, `repair` and `grade IN_DIR OUT_DIR [--cdl FILE [--id ID]] [--lut FILE]
[--in-transfer NAME] [--out-space NAME] [--frames A-B] [--json]` (see `grade --help`).

For scripts, GPU nodes and checking a vendor's delivery before accepting it: no Django, no
database, no root check. Exit status: 0 the sequence was read (its problems are in the report),
1 it cannot be used (no sequence, several and none picked, no readable frame), 2 refused (bad
arguments). Nothing is written except the manifest and bag-info into `--manifest DIR`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from restoration.sequence import SequenceError

EXIT_READ, EXIT_UNUSABLE, EXIT_REFUSED = 0, 1, 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m restoration")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("inspect", help="find, check and checksum a DPX/TIFF sequence")
    p.add_argument("path", type=Path, help="the folder holding the frames")
    p.add_argument("--sequence", metavar="PATTERN",
                   help="which sequence, e.g. 'reel.#######.dpx' or a glob 'reel.*.dpx'")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--manifest", type=Path, metavar="DIR",
                   help="write manifest-sha256.txt and bag-info.txt into DIR")
    p.add_argument("--fast-digest", action="store_true",
                   help="also keep an xxh3-128 digest per frame (fixity-xxh3_128.txt)")
    p.add_argument("--workers", type=int, default=None, help="reading threads (default: cores)")
    a = sub.add_parser("analyze", help="per-frame metrics and a defect report of a sequence")
    a.add_argument("path", type=Path, help="the folder holding the frames")
    a.add_argument("--sequence", metavar="PATTERN", help="which sequence, as for inspect")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--save", type=Path, metavar="FILE",
                   help="also write the metrics to FILE (.npz), outside the source folder")
    r = sub.add_parser("repair", help="apply a repair recipe to a sequence",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=_recipe_help())
    r.add_argument("in_dir", type=Path)
    r.add_argument("out_dir", type=Path)
    r.add_argument("--recipe", type=Path, required=True, metavar="RECIPE.json")
    r.add_argument("--frames", metavar="A-B", help="the files' own frame numbers, inclusive")
    r.add_argument("--device", choices=("cpu", "cuda"), default=None)
    r.add_argument("--sequence", metavar="PATTERN")
    r.add_argument("--json", action="store_true")
    _add_grade_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "analyze":
        return analyze(args)
    if args.command == "repair":
        return repair(args)
    if args.command == "grade":
        return grade(args)

    from restoration.inspect import UnusableSequence, inspect_sequence

    folder: Path = args.path
    if not folder.is_dir():
        return _fail(args, EXIT_REFUSED, f"{folder}: not a folder")
    if args.manifest is not None:
        manifest = args.manifest.resolve()
        if manifest == folder.resolve() or manifest.is_relative_to(folder.resolve()):
            return _fail(args, EXIT_REFUSED,
                         f"{args.manifest}: the manifest must not be written into the source folder")
    if args.workers is not None and args.workers < 1:
        return _fail(args, EXIT_REFUSED, "--workers must be at least 1")
    algorithms = ("sha256", "xxh3_128") if args.fast_digest else ("sha256",)
    try:
        report = inspect_sequence(folder, args.sequence, manifest_dir=args.manifest,
                                  algorithms=algorithms, workers=args.workers)
    except (UnusableSequence, SequenceError) as exc:
        return _fail(args, EXIT_UNUSABLE, str(exc))
    data = report.as_dict()
    if args.json:
        print(json.dumps(data))
    else:
        _print_human(data)
    if not report.usable:
        if not args.json:
            print("no frame of this sequence can be read", file=sys.stderr)
        return EXIT_UNUSABLE
    return EXIT_READ


def analyze(args: argparse.Namespace) -> int:
    """Analyse every readable frame of a sequence; unreadable frames are reported, not fatal."""
    from restoration.analysis import analyze_frames, defect_report, save_metrics
    from restoration.inspect import UnusableSequence, plan_sequence
    from restoration.io import read_frame

    folder: Path = args.path
    if not folder.is_dir():
        return _fail(args, EXIT_REFUSED, f"{folder}: not a folder")
    if args.save is not None and args.save.resolve().is_relative_to(folder.resolve()):
        return _fail(args, EXIT_REFUSED, f"{args.save}: not inside the source folder")
    try:
        plan = plan_sequence(folder, args.sequence)
    except (UnusableSequence, SequenceError) as exc:
        return _fail(args, EXIT_UNUSABLE, str(exc))
    unreadable: list[dict] = []

    def frames():  # one read per frame; a frame that cannot be read is reported, not fatal
        for frame, name in plan.entries:
            try:
                pixels = read_frame(folder / name).pixels
            except Exception as exc:
                unreadable.append({"frame": frame, "file": name, "error": str(exc)})
                continue
            yield frame, pixels

    result = analyze_frames(frames())
    if not len(result):
        return _fail(args, EXIT_UNUSABLE, f"{plan.pattern}: no frame can be read")
    if args.save is not None:
        save_metrics(result, args.save)
    report = {"pattern": plan.pattern, "frames": len(result), "unreadable": unreadable,
              "metrics": result.to_rows(), "defects": defect_report(result)}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{plan.pattern}: {len(result)} frames analysed")
        for line in report["defects"].get("summary", []):
            print(f"  {line}")
        for bad in unreadable:
            print(f"  UNREADABLE frame {bad['frame']} ({bad['file']}): {bad['error']}")
    return EXIT_READ


def _recipe_help() -> str:
    try:
        from restoration.repair.ops import OPS
    except ImportError:  # pragma: no cover - the ops module is part of the package
        OPS = {}
    from restoration.repair.pipeline import UPSCALE_PARAMS

    lines = ['The recipe is a JSON list of steps, e.g. [{"op": "dust"}, {"op": "deflicker",',
             '"radius": 7}, {"op": "upscale", "model": "RealESRGAN_x2plus.pth"}]. Every',
             "parameter is optional; an unknown op or parameter is refused.", ""]
    for name, op in OPS.items():
        lines.append(f"{name} (context {op.context} frame(s) each side)")
        for p in op.params:
            lines.append(f"  {p.name}: {p.help} [{p.unit}, {p.low}-{p.high}, default "
                         f"{p.default}]")
    lines.append("upscale (last step; invents detail)")
    lines += [f"  {k}: {v}" for k, v in UPSCALE_PARAMS.items()]
    return "\n".join(lines)


def repair(args: argparse.Namespace) -> int:
    from restoration.inspect import UnusableSequence
    from restoration.repair.ops import RecipeError
    from restoration.repair.pipeline import RepairError, repair_sequence

    try:
        frames = _input_frames(args)
    except ValueError as exc:
        return _fail(args, EXIT_REFUSED, str(exc))
    try:
        recipe = json.loads(args.recipe.read_text())
    except (OSError, ValueError) as exc:
        return _fail(args, EXIT_REFUSED, f"{args.recipe}: not a readable JSON recipe ({exc})")
    try:
        report = repair_sequence(args.in_dir, args.out_dir, recipe, frames=frames,
                                 pattern=args.sequence, device=args.device)
    except RecipeError as exc:
        return _fail(args, EXIT_REFUSED, f"{args.recipe}: {exc}")
    except (UnusableSequence, SequenceError) as exc:
        return _fail(args, EXIT_UNUSABLE, str(exc))
    except Exception as exc:  # a frame that cannot be read or written, a model that fails
        kind = "" if isinstance(exc, RepairError) else f"{type(exc).__name__}: "
        return _fail(args, EXIT_UNUSABLE, f"repair failed: {kind}{exc}")
    data = {"frames_written": report.frames_written, "output": str(report.output),
            "provenance": str(report.provenance)}
    print(json.dumps(data) if args.json else
          f"{report.frames_written} frames written to {report.output}")
    return EXIT_READ


def _add_grade_parser(sub) -> None:
    from restoration.grading import (
        CDL_STYLES,
        DEFAULT_INTERPOLATION,
        IN_TRANSFERS,
        INTERPOLATIONS,
        OUT_SPACES,
    )

    g = sub.add_parser(
        "grade", help="apply a CDL, a LUT and a colour-space conversion to a sequence",
        description="Grades every frame (or --frames A-B) of IN_DIR into OUT_DIR, same names "
                    "and format, 16-bit, in the fixed order CDL, LUT, conversion (decode "
                    "--in-transfer, encode --out-space); a step not named is skipped, and with "
                    "none named the frames are copied at 16 bits. Exit status: 0 done, 1 a "
                    "frame failed (named), 2 refused (bad arguments, unreadable CDL or LUT).")
    g.add_argument("in_dir", type=Path)
    g.add_argument("out_dir", type=Path)
    g.add_argument("--cdl", type=Path, metavar="FILE", help="ASC CDL file (.cdl, .cc, .ccc)")
    g.add_argument("--id", metavar="ID", help="which ColorCorrection of a .ccc/.cdl, by id")
    g.add_argument("--cdl-style", choices=CDL_STYLES, default="asc",
                   help="OpenColorIO CDL style: asc (v1.2 clamping, default) or no-clamp")
    g.add_argument("--lut", type=Path, metavar="FILE",
                   help="LUT file OpenColorIO reads (.cube, .spi3d, .spi1d, .3dl, ...)")
    g.add_argument("--interpolation", choices=INTERPOLATIONS, default=DEFAULT_INTERPOLATION,
                   help=f"3D LUT interpolation (default {DEFAULT_INTERPOLATION})")
    g.add_argument("--in-transfer", choices=IN_TRANSFERS, help="the scan's transfer, decoded")
    g.add_argument("--out-space", choices=OUT_SPACES, help="the deliverable's space, encoded")
    g.add_argument("--frames", metavar="A-B", help="the files' own frame numbers, inclusive")
    g.add_argument("--sequence", metavar="PATTERN")
    g.add_argument("--json", action="store_true")


def grade(args: argparse.Namespace) -> int:
    """`grade`: exit 0 done, 1 a frame failed (named), 2 refused."""
    from restoration.grading import GradeSpec, GradeSpecError, GradingError, grade_sequence
    from restoration.inspect import UnusableSequence

    try:
        frames = _input_frames(args)
    except ValueError as exc:
        return _fail(args, EXIT_REFUSED, str(exc))
    if args.id is not None and args.cdl is None:
        return _fail(args, EXIT_REFUSED, "--id names a correction in a --cdl file; no --cdl")
    cdl = None
    if args.cdl is not None:
        if not args.cdl.is_file():
            return _fail(args, EXIT_REFUSED, f"{args.cdl}: no such CDL file")
        try:
            from restoration.interchange import InterchangeError, read_cdl
        except ImportError as exc:
            return _fail(args, EXIT_REFUSED, f"{args.cdl}: CDL files cannot be read here ({exc})")
        try:
            cdl = read_cdl(args.cdl, id=args.id)
        except (InterchangeError, OSError, ValueError) as exc:
            return _fail(args, EXIT_REFUSED, f"{args.cdl}: {exc}")
    try:
        spec = GradeSpec(cdl=cdl, lut=str(args.lut) if args.lut else None,
                         interpolation=args.interpolation, in_transfer=args.in_transfer,
                         out_space=args.out_space, cdl_style=args.cdl_style)
        report = grade_sequence(args.in_dir, args.out_dir, spec, frames=frames,
                                pattern=args.sequence)
    except GradeSpecError as exc:
        return _fail(args, EXIT_REFUSED, str(exc))
    except (UnusableSequence, SequenceError) as exc:
        return _fail(args, EXIT_UNUSABLE, str(exc))
    except Exception as exc:  # a frame that cannot be read, graded or written
        kind = "" if isinstance(exc, GradingError) else f"{type(exc).__name__}: "
        return _fail(args, EXIT_UNUSABLE, f"grade failed: {kind}{exc}")
    data = {"frames_written": report.frames_written, "output": str(report.output),
            "provenance": str(report.provenance)}
    print(json.dumps(data) if args.json else
          f"{report.frames_written} frames written to {report.output}")
    return EXIT_READ


def _input_frames(args: argparse.Namespace) -> tuple[int, int] | None:
    """`--frames A-B` of a command over IN_DIR (None: all); ValueError says what is wrong."""
    if not args.in_dir.is_dir():
        raise ValueError(f"{args.in_dir}: not a folder")
    if not args.frames:
        return None
    try:
        a, b = (int(x) for x in args.frames.split("-", 1))
    except ValueError:
        a, b = 1, 0
    if a > b:
        raise ValueError(f"--frames {args.frames!r}: expected A-B, A <= B")
    return a, b


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "exit": code}))
    print(message, file=sys.stderr)
    return code


def _print_human(d: dict) -> None:
    print(f"{d['pattern']}: {d['frames']} frames, {d['first']}-{d['last']}")
    if d["width"]:
        print(f"  {d['width']}x{d['height']} {d['bit_depth']}-bit, "
              f"{(d['descriptor'] or {}).get('name', '')} {(d['transfer'] or {}).get('name', '')}"
              f"{'' if d['fps'] is None else ', ' + str(d['fps']) + ' fps'}"
              f"{'' if not d['timecode'] else ', timecode ' + d['timecode']}")
    if d["missing"]:
        print(f"  missing {len(d['missing'])}: {d['missing'][:20]}{' …' if len(d['missing']) > 20 else ''}")
    for dup in d["duplicates"]:
        print(f"  duplicate frame: {', '.join(dup)}")
    for bad in d["bad_frames"]:
        print(f"  BAD frame {bad['frame']} ({bad['file']}): {bad['error']}")
    for w in d["warnings"]:
        print(f"  warning: {w}")
    if d["manifest"]:
        print(f"  manifest: {d['manifest']} (sha256 {d['manifest_digest']})")


if __name__ == "__main__":
    sys.exit(main())
