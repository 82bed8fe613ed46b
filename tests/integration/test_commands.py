"""The scriptable commands: reel_status, import_inventory, demo (verify_history: test_history)."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from archive.models import Collection, Reel, Title
from tests.conftest import make_reel, signed_off_run
from workflow import transitions as t
from workflow.models import Event, StageRun

pytestmark = pytest.mark.django_db
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
CHAIN = ["inspection", "scan", "repair", "grading", "merge", "screening", "storage"]


def run_command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reel_status_json_for_one_reel(people):
    run = signed_off_run(people)
    t.approve_stage(run, by=people["supervisor"])
    data = json.loads(run_command("reel_status", run.reel.accession, "--json"))
    assert set(data) == {"accession", "title", "current_stage", "stages"}
    assert (data["accession"], data["title"], data["current_stage"]) == (
        run.reel.accession, run.reel.title.name, "scan")
    assert [s["stage"] for s in data["stages"]] == CHAIN
    inspection, scan, repair = data["stages"][:3]
    assert inspection["state"] == "approved"
    assert inspection["signed_off_by"] == "technician" and inspection["approved_by"] == "supervisor"
    assert ISO_UTC.match(inspection["opened"]) and ISO_UTC.match(inspection["closed"])
    assert scan == {"stage": "scan", "state": "open", "signed_off_by": None, "approved_by": None,
                    "opened": scan["opened"], "closed": None}
    assert ISO_UTC.match(scan["opened"])
    assert repair == {"stage": "repair", "state": "not_started", "signed_off_by": None,
                      "approved_by": None, "opened": None, "closed": None}


def test_reel_status_shows_latest_run_after_a_return(people):
    run = signed_off_run(people, "scan")
    t.return_reel(run, by=people["supervisor"], to_stage="inspection", reason="re-clean")
    data = json.loads(run_command("reel_status", run.reel.accession, "--json"))
    states = {s["stage"]: s["state"] for s in data["stages"]}
    # inspection runs again (open); scan's latest run is the returned one
    assert states["inspection"] == "open" and states["scan"] == "returned"
    assert data["current_stage"] == "inspection"


def test_reel_status_all_reels_is_an_array_and_preserved_shows(people):
    done = signed_off_run(people, "storage")
    t.approve_stage(done, by=people["supervisor"])
    make_reel("ZZ-NEW")
    data = json.loads(run_command("reel_status", "--json"))
    assert isinstance(data, list) and len(data) == 2
    by_acc = {d["accession"]: d for d in data}
    assert by_acc[done.reel.accession]["current_stage"] == "preserved"
    assert all(s["state"] == "approved" for s in by_acc[done.reel.accession]["stages"])
    assert all(s["state"] == "not_started" for s in by_acc["ZZ-NEW"]["stages"])


def test_reel_status_unknown_accession_exits_1(db):
    with pytest.raises(CommandError, match="no reel with accession 'NOPE'") as err:
        call_command("reel_status", "NOPE", "--json")
    assert err.value.returncode == 1


GOOD = """accession,collection,title,year,director,reel_number,reel_count,gauge,element,base,colour,sound,length_ft,frame_rate,vault_location,barcode
INV-001,Nitrate vault,The Lost Reel,1923,A. Nobody,1,2,35mm,print,nitrate,tinted,silent,950,18,V1-03,B0001
INV-002,Nitrate vault,The Lost Reel,1923,A. Nobody,2,2,35,print,nitrate,bw,silent,900,18,V1-04,B0002
INV-003,Home movies,Summer 1961,1961,,1,1,Super 8,reversal,acetate,colour,silent,50,18,H-2,
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_inventory_creates_reels_and_opens_inspection(people, tmp_path):
    out = run_command("import_inventory", str(write(tmp_path, GOOD)), "--user", "archivist",
                      "--json")
    assert json.loads(out) == {"ok": True, "imported": 3,
                               "accessions": ["INV-001", "INV-002", "INV-003"], "errors": []}
    reel = Reel.objects.get(accession="INV-002")
    assert (reel.reel_number, reel.reel_count, reel.gauge, reel.base, reel.length_ft) == (
        2, 2, "35", "nitrate", 900)
    assert str(reel.frame_rate) == "18.000"
    assert Reel.objects.get(accession="INV-003").gauge == "super8"
    assert Title.objects.filter(name="The Lost Reel").count() == 1
    assert Collection.objects.count() == 2
    assert StageRun.objects.filter(stage="inspection", status="open").count() == 3
    assert Event.objects.filter(verb="opened", actor=people["archivist"]).count() == 3


def test_import_inventory_bad_rows_named_by_line_and_nothing_imported(people, tmp_path):
    make_reel("EXISTING-1")
    bad = GOOD + (
        "INV-004,Nitrate vault,X,1923,,3,2,35,print,nitrate,bw,silent,,24,,\n"     # line 5
        "INV-005,Nitrate vault,X,1923,,1,1,36mm,print,nitrate,bw,silent,,24,,\n"   # line 6
        "INV-001,Nitrate vault,X,1923,,1,1,35,print,nitrate,bw,silent,,24,,\n"     # line 7
        "EXISTING-1,Nitrate vault,X,1923,,1,1,35,print,nitrate,bw,silent,,24,,\n"  # line 8
        "INV-006,Nitrate vault,X,1923,,1,1,35,print,celluloid,bw,silent,,24,,\n"  # line 9
        "INV-007,Nitrate vault,X,1923,,1,1,35,print,acetate,bw,silent,long,24,,\n"  # line 10
    )
    with pytest.raises(CommandError, match="6 problem") as err:
        run_command("import_inventory", str(write(tmp_path, bad)), "--user", "archivist")
    assert err.value.returncode == 1
    err_out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_inventory", str(write(tmp_path, bad)), "--user", "archivist",
                     stdout=io.StringIO(), stderr=err_out)
    text = err_out.getvalue()
    for line, words in [(5, "reel_number 3 is more than reel_count 2"), (6, "gauge '36mm'"),
                        (7, "accession INV-001 appears again (first on line 2)"), (8, "accession EXISTING-1 is already catalogued"),
                        (9, "base 'celluloid'"), (10, "length_ft 'long'")]:
        assert f"line {line}: {words}" in text, text
    assert not Reel.objects.filter(accession__startswith="INV-").exists()
    assert Collection.objects.filter(name="Nitrate vault").count() == 0


def test_import_inventory_missing_column_and_wrong_role(people, tmp_path):
    path = write(tmp_path, "accession,title\nA,B\n")
    with pytest.raises(CommandError):
        run_command("import_inventory", str(path), "--user", "archivist")
    with pytest.raises(CommandError, match="needs the archivist or supervisor role"):
        run_command("import_inventory", str(write(tmp_path, GOOD)), "--user", "restorer")
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run_command("import_inventory", str(write(tmp_path, GOOD)), "--user", "ghost")
    assert not Reel.objects.exists()


def test_demo_makes_people_and_reels_and_a_second_run_changes_nothing(db, settings):
    settings.JOBS_BACKEND = "thread"
    first = run_command("demo")
    assert "supervisor2" in first and "password reelkeeper-supervisor2" in first
    snapshot = (Reel.objects.count(), StageRun.objects.count(), Event.objects.count())
    stages = dict(Reel.objects.values_list("accession", "current_stage"))
    assert snapshot[0] == 10
    assert sum(1 for s in stages.values() if s == "scan") >= 2
    assert "preserved" in stages.values()
    assert StageRun.objects.awaiting_approval().count() >= 2
    run_command("demo")
    assert (Reel.objects.count(), StageRun.objects.count(), Event.objects.count()) == snapshot
    assert json.loads(run_command("verify_history", "--json"))["ok"] is True


def test_no_pending_migrations(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_restoration_never_imports_django():
    code = (
        "import pkgutil, importlib, sys, restoration\n"
        "mods = [m.name for m in pkgutil.walk_packages(restoration.__path__, 'restoration.')]\n"
        "[importlib.import_module(m) for m in mods]\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "print(len(mods), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2], env={"PATH": "/usr/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[0]) >= 1


def test_example_inventory_in_fixtures_imports(people):
    path = Path(__file__).resolve().parents[2] / "fixtures" / "inventory-example.csv"
    out = json.loads(run_command("import_inventory", str(path), "--user", "supervisor", "--json"))
    assert out["ok"] and out["imported"] == 4
    assert Reel.objects.get(accession="EX-1978-001").frame_rate == 25
