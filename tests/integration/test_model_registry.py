"""Registering repair-model weights placed in MODEL_DIR: real files, read by the real loader."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
import torch
from django.core.management import call_command

from archive.models import RepairModel
from archive.registry import RegistryError, model_path, register_model
from restoration.repair.networks import SRVGGNetCompact

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    settings.MODEL_DIR.mkdir()
    return settings.MODEL_DIR


def save_tiny(path: Path, seed: int = 0, key: str = "params") -> Path:
    torch.manual_seed(seed)
    net = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=2)
    torch.save({key: net.state_dict()}, path)
    return path


def test_register_records_digest_architecture_and_scale(people, model_dir):
    path = save_tiny(model_dir / "tiny-x2.pth")
    out = io.StringIO()
    call_command("register_model", "tiny-x2.pth", "--name", "tiny-x2", "--user", "restorer",
                 "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (data["arch"], data["scale"], data["file"]) == ("SRVGGNetCompact", 2, "tiny-x2.pth")
    model = RepairModel.objects.get(name="tiny-x2")
    assert model.registered_by == people["restorer"] and model_path(model) == path.resolve()


def test_changed_weights_are_caught_before_use(people, model_dir):
    path = save_tiny(model_dir / "tiny.pth")
    model = register_model(path, "tiny", by=people["restorer"])
    save_tiny(path, seed=1)
    with pytest.raises(RegistryError, match="was changed or replaced"):
        model_path(model)


@pytest.mark.parametrize("case", ["corrupt", "outside", "missing", "duplicate", "name_taken"])
def test_refusals_name_the_file_and_register_nothing(people, model_dir, tmp_path, case):
    first = register_model(save_tiny(model_dir / "a.pth"), "a", by=people["restorer"])
    path = {"corrupt": model_dir / "broken.pth", "outside": tmp_path / "elsewhere.pth",
            "missing": model_dir / "nope.pth", "duplicate": model_dir / "copy.pth",
            "name_taken": model_dir / "b.pth"}[case]
    if case == "corrupt":
        path.write_bytes(b"this is not a torch file")
    elif case == "outside":
        save_tiny(path, seed=2)
    elif case == "duplicate":
        path.write_bytes((model_dir / "a.pth").read_bytes())
    elif case == "name_taken":
        save_tiny(path, seed=3)
    with pytest.raises(RegistryError) as err:
        register_model(path, "a" if case == "name_taken" else "new", by=people["restorer"])
    assert path.name in str(err.value) or "'a'" in str(err.value)
    assert list(RepairModel.objects.all()) == [first]


def test_wrong_role_is_refused_with_exit_2(people, model_dir):
    save_tiny(model_dir / "tiny.pth")
    with pytest.raises(SystemExit) as exit_:
        call_command("register_model", "tiny.pth", "--name", "tiny", "--user", "technician",
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert exit_.value.code == 2 and not RepairModel.objects.exists()
