"""Background jobs: thin functions `<kind>_job(job_id)` that load rows, call `restoration`,
and hand the result to a transition. They run the same under `rqworker` and in-process.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from restoration.images import make_thumbnail
from workflow.models import InspectionPhoto
from workflow.runner import worker_name
from workflow.transitions import begin_job, finish_job, report_progress


def _progress(job_id: int):
    def report(done: int, total: int) -> None:
        report_progress(job_id, done, total)

    return report


def thumbnail_photo_job(job_id: int) -> None:
    job = begin_job(job_id, worker=worker_name())
    photo = InspectionPhoto.objects.get(pk=job.args["photo"])
    source = Path(settings.MEDIA_ROOT) / photo.image.name
    thumb_name = str(Path(photo.image.name).with_suffix("")) + ".thumb.jpg"
    report = make_thumbnail(source, Path(settings.MEDIA_ROOT) / thumb_name,
                            on_progress=_progress(job_id))
    InspectionPhoto.objects.filter(pk=photo.pk).update(thumbnail=thumb_name)
    finish_job(job_id, message=f"thumbnail {report.width}x{report.height}")


def always_fails_job(job_id: int) -> None:
    """A job that fails on purpose, so the failure path can be seen and tested end to end."""
    begin_job(job_id, worker=worker_name())
    report_progress(job_id, 1, 3, "about to fail")
    raise RuntimeError(f"job {job_id} failed on purpose: {settings.JOBS_BACKEND} runner")


def _plan_of(sequence):
    import json

    from restoration.inspect import Plan

    return Plan.from_json(json.loads((Path(sequence.storage_dir) / "plan.json").read_text()))


def ingest_chunk_job(job_id: int) -> None:
    """Read, check and digest one range of a scan's frames; the result is written whole or not
    at all, and a range already done is not read again (so the job may run twice)."""
    import json

    from archive.models import Sequence
    from restoration.fixity import write_atomic
    from restoration.inspect import read_frames
    from workflow.transitions import chunk_path

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    start, stop = job.args["start"], job.args["stop"]
    out = chunk_path(Path(sequence.storage_dir), start, stop)
    if out.exists():
        finish_job(job_id, message="already read before (resumed)")
        return
    plan = _plan_of(sequence)
    records = read_frames(plan, plan.entries[start:stop], workers=settings.INGEST_THREADS,
                          on_progress=_progress(job_id))
    write_atomic(out, json.dumps([r.to_json() for r in records]).encode())
    bad = sum(1 for r in records if r.errors)
    finish_job(job_id, message="files read" + (f", {bad} bad" if bad else ""))


def ingest_finish_job(job_id: int) -> None:
    """Gather the chunks in frame order into the manifest and bag-info, and record the facts."""
    import json

    from archive.models import Sequence
    from restoration.inspect import FrameRecord, summarise
    from workflow.transitions import chunk_path, finish_scan_import

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.select_related("reel").get(pk=job.args["sequence"])
    storage = Path(sequence.storage_dir)
    plan = _plan_of(sequence)
    records = []
    for start, stop in job.args["chunks"]:
        path = chunk_path(storage, start, stop)
        if not path.exists():
            raise RuntimeError(f"files {start + 1}-{stop} of {plan.pattern} were not read "
                               f"({path.name} missing): resume the import")
        records.extend(FrameRecord.from_json(d) for d in json.loads(path.read_text()))
    if [(r.frame, r.name) for r in records] != [tuple(e) for e in plan.entries]:
        raise RuntimeError(f"{plan.pattern}: the chunk results do not add up to the planned "
                           "frames: resume the import")
    report = summarise(plan, records, manifest_dir=storage, bag_info={
        "External-Identifier": sequence.reel.accession,
        "Source-Folder": sequence.root_path,
        "Sequence-Version": f"raw_scan-v{sequence.version}",
    })
    finish_scan_import(sequence.pk, report, by=job.created_by)
    finish_job(job_id, message=f"{report.frames} frames; manifest "
                               f"{report.manifest.digest[:12] if report.manifest else 'none'}")


def make_proxies_job(job_id: int) -> None:
    """Thumbnails and contact sheets of an imported sequence, for the approver's page."""
    from archive.models import Sequence
    from restoration.proxies import make_proxies, transfer_kind

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    plan = _plan_of(sequence)
    bad = {b["file"] for b in sequence.bad_frames}
    entries = [(frame, name) for frame, name in plan.entries if name not in bad]
    kind = transfer_kind((sequence.transfer or {}).get("code"))
    # every PROXY_EVERY-th frame, but at least a dozen thumbnails for a short scan
    every = max(1, min(settings.PROXY_EVERY, len(entries) // 12))
    report = make_proxies(plan.folder, entries, Path(sequence.storage_dir) / "proxies",
                          kind=kind, every=every,
                          sheet_frames=settings.PROXY_SHEET_FRAMES,
                          on_progress=_progress(job_id))
    Sequence.objects.filter(pk=sequence.pk).update(proxies={
        "kind": kind, "thumbnails": report.thumbnails, "sheets": report.sheets,
        "errors": report.errors})
    finish_job(job_id, message=f"thumbnails made, {len(report.sheets)} contact "
                               f"sheet{'s' if len(report.sheets) != 1 else ''}")


def analyze_scan_job(job_id: int) -> None:
    """Per-frame metrics of an imported scan (analysis.npz beside its manifest) and the reel's
    defect report, for the restorer who chooses the repair recipe."""
    from archive.models import Sequence
    from restoration.analysis import analyze_sequence, defect_report, save_metrics

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    plan = _plan_of(sequence)
    bad = {b["file"] for b in sequence.bad_frames}
    seen: set[int] = set()
    paths = []
    for frame, name in plan.entries:
        if name not in bad and frame not in seen:  # a duplicate's first file, as listed
            seen.add(frame)
            paths.append((frame, plan.folder / name))
    result = analyze_sequence(paths, on_progress=_progress(job_id))
    target = Path(sequence.storage_dir) / "analysis.npz"
    save_metrics(result, target)
    report = defect_report(result)
    Sequence.objects.filter(pk=sequence.pk).update(
        analysis={"file": target.name, "frames": len(result), "report": report})
    finish_job(job_id, message=f"analysed; {len(report.get('summary', []))} findings")


# Repair -----------------------------------------------------------------------------------

def _device() -> str | None:
    return settings.REPAIR_DEVICE or None


def preview_dir(job) -> Path:
    return Path(settings.STORAGE_ROOT) / job.reel.accession / "repair-previews" / f"job-{job.pk}"


def repair_preview_job(job_id: int) -> None:
    """The saved recipe over a few frames of the raw scan: before and after images and the
    analysis of both. The network, if any, is loaded here, inside the job (never before RQ
    forks)."""
    from archive.models import Sequence
    from restoration.proxies import transfer_kind
    from restoration.repair.pipeline import repair_sequence
    from restoration.repair.preview import compare
    from workflow.recipes import for_pipeline, resolve_recipe

    job = begin_job(job_id, worker=worker_name())
    source = Sequence.objects.get(pk=job.args["source"])
    resolved = resolve_recipe(job.args["recipe"])
    out = preview_dir(job)
    first, last = job.args["first"], job.args["last"]
    progress = _progress(job_id)
    report = repair_sequence(Path(source.root_path), out / "frames", for_pipeline(resolved),
                             frames=(first, last), pattern=source.pattern, device=_device(),
                             provenance_path=out / "provenance.json",
                             exclude=[b["file"] for b in source.bad_frames],
                             on_progress=lambda d, t: progress(d, 2 * t))
    plan = _plan_of(source)
    wanted = set(report.names)
    seen: set[str] = set()
    entries = []
    for frame, name in plan.entries:
        if name in wanted and name not in seen:
            seen.add(name)
            entries.append((frame, name))
    compare(Path(source.root_path), out / "frames", entries, out,
            kind=transfer_kind((source.transfer or {}).get("code")),
            on_progress=lambda d, t: progress(t // 2 + d // 2, t))
    finish_job(job_id, message=f"preview of frames {first}-{last} ready")


def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 21), b""):
            h.update(block)
    return h.hexdigest()


def _claim_tiling(storage: Path, tiling: dict | None) -> dict | None:
    """The run's tiling: the first chunk to finish records the tile it chose, exclusively;
    every other chunk then uses it. Returns what is recorded."""
    import json
    import os

    path = storage / "tiling.json"
    if tiling is not None and not path.exists():
        tmp = storage / f".tiling.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(tiling))
        try:
            os.link(tmp, path)  # fails if another chunk recorded one first
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return json.loads(path.read_text()) if path.exists() else None


def _render_chunk(job_id: int, work) -> None:
    """One chunk of a repair or a render: `work(spec, sequence, frames)` writes the frames
    (the files' own numbers, in order) into the sequence's folder and returns the report
    (``names`` written in frame order, ``data`` its provenance).

    Each frame file is written whole (temporary name, then renamed); the chunk's result, the
    SHA-256 of each frame it wrote, is written last. A chunk whose result exists is not done
    again; one that was cut off half-way is done again from the start and gives the same
    bytes.
    """
    import json

    from archive.models import Sequence
    from restoration.fixity import write_atomic
    from workflow.transitions import render_chunk_path

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.get(pk=job.args["sequence"])
    storage = Path(sequence.storage_dir)
    start, stop = job.args["start"], job.args["stop"]
    marker = render_chunk_path(storage, start, stop)
    if marker.exists():
        finish_job(job_id, message="already done before (resumed)")
        return
    spec = json.loads((storage / "render.json").read_text())
    frames = spec["frames"][start:stop]
    report = work(spec, sequence, frames, _progress(job_id))
    out = Path(sequence.root_path)
    result = {"start": start, "stop": stop, "worker": worker_name(),
              "frames": [[f, n, _sha256(out / n)] for f, n in zip(frames, report.names,
                                                                   strict=True)],
              "provenance": report.data}
    write_atomic(marker, json.dumps(result).encode())
    finish_job(job_id, message=f"{len(frames)} frames done")


def repair_chunk_job(job_id: int) -> None:
    """Repair one range of frames (reading the context around it). Every chunk uses the run's
    recorded tiling, so chunks and resumes give the same bytes."""
    _render_chunk(job_id, _repair_frames)


def _repair_frames(spec: dict, sequence, frames: list[int], progress):
    from restoration.repair.pipeline import repair_sequence
    from workflow.recipes import for_pipeline

    recipe = spec["recipe"]
    _check_models(recipe)
    storage = Path(sequence.storage_dir)
    upscales = any(s["op"] == "upscale" for s in recipe)
    recorded = _claim_tiling(storage, None)
    while True:
        report = repair_sequence(
            Path(spec["source"]["folder"]), Path(sequence.root_path), for_pipeline(recipe),
            frames=(frames[0], frames[-1]), pattern=spec["source"]["pattern"],
            device=spec.get("device"), tiling=recorded, provenance_path=False,
            on_progress=progress, exclude=spec.get("exclude", []))
        used = report.data.get("tiling")
        if not upscales or recorded is not None:
            return report
        recorded = _claim_tiling(storage, used)
        if recorded.get("tile") == used.get("tile"):
            return report  # this chunk's tile is the run's; otherwise done again with it


def _check_models(recipe: list[dict]) -> None:
    """Each model file must still be the one registered when the run started."""
    for step in recipe:
        if step["op"] == "upscale":
            actual = _sha256(Path(step["model"]))
            if actual != step["model_sha256"]:
                raise RuntimeError(f"{step['model']}: its SHA-256 is {actual}, not the "
                                   f"{step['model_sha256']} of {step['model_name']!r} when the "
                                   "repair started: the file was changed")


def _render_finish(job_id: int, provenance_of) -> None:
    """Check that every chunk is there, read every output frame once into the manifest, check
    each digest against the one its chunk recorded, write the provenance (from
    `provenance_of(spec, chunks)`) and record the sequence; the stage's work is then ready to
    be signed off."""
    import hashlib
    import json

    from archive.models import Sequence
    from restoration.fixity import write_atomic
    from restoration.inspect import plan_sequence, read_frames, summarise
    from workflow.transitions import finish_render, render_chunk_path

    job = begin_job(job_id, worker=worker_name())
    sequence = Sequence.objects.select_related("reel").get(pk=job.args["sequence"])
    storage = Path(sequence.storage_dir)
    spec = json.loads((storage / "render.json").read_text())
    expected: list[list] = []
    chunks = []
    for start, stop in spec["chunks"]:
        path = render_chunk_path(storage, start, stop)
        if not path.exists():
            raise RuntimeError(f"frames {spec['frames'][start]}-{spec['frames'][stop - 1]} "
                               f"were not done ({path.name} missing): resume")
        chunk = json.loads(path.read_text())
        chunks.append(chunk)
        expected.extend(chunk["frames"])
    if [f for f, _, _ in expected] != spec["frames"]:
        raise RuntimeError("the chunks do not add up to the source's frames: resume")
    plan = plan_sequence(Path(sequence.root_path), spec["source"]["pattern"])
    # a write cut off by a killed worker leaves its hidden temporary file: every chunk is done
    # now (its frames were written again whole), so nothing is writing and they can go
    partial = [n for n in plan.others if n.startswith(".") and ".part" in n]
    for name in partial:
        (Path(sequence.root_path) / name).unlink(missing_ok=True)
    plan.others = [n for n in plan.others if n not in partial]
    if plan.others:
        raise RuntimeError(f"{sequence.root_path} holds files that are not its frames: "
                           f"{', '.join(plan.others[:5])}")
    write_atomic(storage / "plan.json", json.dumps(plan.to_json()).encode())
    records = read_frames(plan, workers=settings.INGEST_THREADS, on_progress=_progress(job_id))
    for (frame, name, digest), record in zip(expected, records, strict=False):
        if record.name != name or record.digests.get("sha256") != digest:
            raise RuntimeError(f"frame {frame} ({name}): its SHA-256 is "
                               f"{record.digests.get('sha256')}, not the {digest} written by "
                               "its chunk: the file changed after it was written")
    if len(records) != len(expected):
        raise RuntimeError(f"{len(records)} frames found for {len(expected)} written")
    provenance = {**provenance_of(spec, chunks), "source": spec["source"],
                  "frames": [spec["frames"][0], spec["frames"][-1]],
                  "frame_count": len(expected), "chunks": len(chunks),
                  "workers": sorted({c["worker"] for c in chunks}), "output_bits": 16}
    blob = json.dumps(provenance, indent=2).encode()
    write_atomic(storage / "provenance.json", blob)
    provenance["sha256"] = hashlib.sha256(blob).hexdigest()
    report = summarise(plan, records, manifest_dir=storage, bag_info={
        "External-Identifier": sequence.reel.accession,
        "Sequence-Version": f"{sequence.kind}-v{sequence.version}",
        "Source-Sequence": f"{spec['source']['kind']}-v{spec['source']['version']} "
                           f"({spec['source']['manifest_digest']})",
        "Provenance-SHA256": provenance["sha256"],
        "Invents-Detail": ", ".join(provenance.get("invents_detail", [])) or "no",
    })
    finish_render(sequence.pk, report, provenance, by=job.created_by)
    finish_job(job_id, message=f"{report.frames} frames; manifest "
                               f"{report.manifest.digest[:12] if report.manifest else 'none'}")


def repair_finish_job(job_id: int) -> None:
    _render_finish(job_id, _repair_provenance)


def _repair_provenance(spec: dict, chunks: list[dict]) -> dict:
    from workflow.recipes import invents_detail

    first = chunks[0]["provenance"]
    upscales = [s for s in spec["recipe"] if s["op"] == "upscale"]
    provenance = {
        "code": first["code"],
        "recipe": [{k: v for k, v in s.items() if k != "model"} if s["op"] == "upscale" else s
                   for s in spec["recipe"]],
        "context_frames": first["context_frames"],
        "models": [{"name": s["model_name"], "sha256": s["model_sha256"],
                    "arch": m.get("arch"), "scale": m.get("scale")}
                   for s, m in zip(upscales, first["models"], strict=True)],
        "tiling": first["tiling"],
        "devices": sorted({c["provenance"]["device"] for c in chunks}),
        "invents_detail": invents_detail(spec["recipe"]),
    }
    deviations = [c["provenance"]["tiling"].get("deviation_vs_fp32") for c in chunks
                  if c["provenance"].get("tiling")]
    if any(deviations):
        provenance["tiling"] = {**first["tiling"], "deviation_vs_fp32": max(
            (d for d in deviations if d), key=lambda d: d["max_abs_16bit"])}
    return provenance


# Grading ----------------------------------------------------------------------------------

def grade_spec(base: dict, cdl: dict | None):
    """A `restoration.grading.GradeSpec` from the stored base grade and a shot's CDL (the base
    CDL when the shot has none)."""
    from restoration.grading import GradeSpec
    from restoration.interchange import CDL

    values = cdl if cdl is not None else base.get("cdl")
    lut = base.get("lut")
    return GradeSpec(
        cdl=None if values is None else CDL(
            slope=tuple(values["slope"]), offset=tuple(values["offset"]),
            power=tuple(values["power"]), saturation=values["saturation"]),
        lut=lut["file"] if lut else None, lut_sha256=lut["sha256"] if lut else None,
        interpolation=base.get("interpolation") or "tetrahedral",
        in_transfer=base.get("in_transfer") or None, out_space=base.get("out_space") or None)


def _segments(spec: dict, frames: list[int]) -> list[tuple[int, int, dict | None, int | None]]:
    """(first, last, CDL, shot number) runs of `frames` graded alike: each shot's own CDL, the
    base CDL (None) outside every shot."""
    shots = spec["shots"]

    def shot_of(frame: int) -> dict | None:
        return next((s for s in shots if s["first"] <= frame <= s["last"]), None)

    runs: list[tuple[int, int, dict | None, int | None]] = []
    for frame in frames:
        shot = shot_of(frame)
        key = shot["number"] if shot else None
        if runs and runs[-1][3] == key:
            runs[-1] = (runs[-1][0], frame, runs[-1][2], key)
        else:
            runs.append((frame, frame, shot["cdl"] if shot else None, key))
    return runs


def grade_chunk_job(job_id: int) -> None:
    """Grade one range of frames, shot by shot, into the graded sequence's folder."""
    _render_chunk(job_id, _grade_frames)


def _grade_frames(spec: dict, sequence, frames: list[int], progress):
    from types import SimpleNamespace

    from restoration.grading import grade_sequence

    names: list[str] = []
    grades = []
    done = 0
    for first, last, cdl, shot in _segments(spec, frames):
        count = sum(1 for f in frames if first <= f <= last)
        report = grade_sequence(
            Path(spec["source"]["folder"]), Path(sequence.root_path),
            grade_spec(spec["base"], cdl), frames=(first, last),
            pattern=spec["source"]["pattern"], provenance_path=False,
            exclude=spec.get("exclude", []),
            on_progress=lambda d, t, base=done: progress(base + d, len(frames)))
        done += count
        names.extend(report.names)
        grades.append({"shot": shot, "frames": [first, last], **report.data})
    return SimpleNamespace(names=names, data={"grades": grades})


def grade_finish_job(job_id: int) -> None:
    _render_finish(job_id, _grade_provenance)


def _grade_provenance(spec: dict, chunks: list[dict]) -> dict:
    """The grade as rendered: the base, each shot's CDL, and per shot the grade each chunk
    applied (CDL values, LUT digest, the conversion and the software versions)."""
    applied: dict[str, dict] = {}
    for chunk in chunks:
        for grade in chunk["provenance"]["grades"]:
            key = str(grade["shot"]) if grade["shot"] is not None else "base"
            applied.setdefault(key, {k: v for k, v in grade.items() if k != "frames"})
    code = next((g.get("code") for c in chunks for g in c["provenance"]["grades"]
                 if g.get("code")), None)
    return {"code": code, "base": spec["base"], "shots": spec["shots"], "applied": applied,
            "invents_detail": []}
