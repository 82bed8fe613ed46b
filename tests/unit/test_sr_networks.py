"""Super-resolution networks and weight files (restoration.repair.networks, .models).

Tiny real networks of both families, with random weights initialised the way the upstream code
initialises them, are saved the way the official Real-ESRGAN files are (``{"params_ema": sd}``,
``{"params": sd}``, a bare state dict) and loaded back through ``load_model``: no stubs.
The official layouts are checked against tensor names, shapes and parameter counts written out
here from the published definitions (basicsr ``rrdbnet_arch.py``, Real-ESRGAN
``srvgg_arch.py``) and ESRGAN's published size, not from our own output.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from restoration.repair.models import (
    OFFICIAL_LAYOUTS,
    ModelError,
    detect_architecture,
    load_model,
    pick_device,
)
from restoration.repair.networks import RRDBNet, SRVGGNetCompact
from restoration.repair.tiling import upscale_frames

ROOT = Path(__file__).resolve().parents[2]


def tiny_rrdbnet(scale: int, seed: int = 0) -> RRDBNet:
    """A 2-block, 8-feature RRDBNet initialised as basicsr does (dense-block convs
    Kaiming-normal x 0.1, the rest PyTorch's default), then with ``conv_last`` set so the
    output is centred on mid-grey with a spread of about 0.12: a random trunk's raw output sits
    near 0 with a spread of ~0.04, and half of it would be clipped at black. Only the last
    layer's scale and offset change; the trunk keeps its upstream initialisation."""
    torch.manual_seed(seed)
    net = RRDBNet(num_in_ch=3, num_out_ch=3, scale=scale, num_feat=8, num_block=2,
                  num_grow_ch=4).eval()
    probe = 0.1 + 0.8 * torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        net.conv_last.bias.zero_()
        spread = float(net(probe).std())
        net.conv_last.weight.mul_(0.12 / spread)
        net.conv_last.bias.copy_(0.5 - net(probe).mean(dim=(0, 2, 3)))
    return net


def tiny_srvgg(scale: int = 4, seed: int = 0) -> SRVGGNetCompact:
    """An 8-feature SRVGGNetCompact with 3 body convs and PyTorch's default initialisation
    (Real-ESRGAN's definition sets none of its own); its output is the nearest-upscaled input
    plus a small random residual, so it is never saturated."""
    torch.manual_seed(seed)
    return SRVGGNetCompact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=3, upscale=scale,
                           act_type="prelu").eval()


def save_like_official(net: torch.nn.Module, path: Path, layout: str) -> Path:
    sd = net.state_dict()
    torch.save({"params_ema": sd} if layout == "params_ema" else
               {"params": sd} if layout == "params" else sd, path)
    return path


def test_importing_the_package_loads_neither_torch_nor_django():
    code = ("import sys, restoration.repair, restoration.repair.models, "
            "restoration.repair.tiling; "
            "print(' '.join(m for m in ('torch', 'django') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


CASES = [
    # (family, scale, how the file is laid out, what load_model should detect)
    ("RRDBNet", 4, "params_ema", {"num_feat": 8, "num_block": 2, "num_grow_ch": 4}),
    ("RRDBNet", 2, "params", {"num_feat": 8, "num_block": 2, "num_grow_ch": 4}),
    ("RRDBNet", 1, "bare", {"num_feat": 8, "num_block": 2, "num_grow_ch": 4}),
    ("SRVGGNetCompact", 4, "params", {"num_feat": 8, "num_conv": 3, "act_type": "prelu"}),
    ("SRVGGNetCompact", 2, "params_ema", {"num_feat": 8, "num_conv": 3, "act_type": "prelu"}),
]


@pytest.mark.parametrize(("arch", "scale", "layout", "expected"), CASES,
                         ids=[f"{a}-x{s}-{lay}" for a, s, lay, _ in CASES])
def test_saved_weights_load_into_the_same_network(tmp_path, arch, scale, layout, expected):
    original = tiny_rrdbnet(scale) if arch == "RRDBNet" else tiny_srvgg(scale)
    path = save_like_official(original, tmp_path / f"tiny_{arch}_x{scale}.pth", layout)

    model = load_model(path, device="cpu")

    assert (model.arch, model.scale, model.name) == (arch, scale, f"tiny_{arch}_x{scale}")
    assert {k: model.params[k] for k in expected} == expected
    assert model.params["weights_key"] == (None if layout == "bare" else layout)
    assert model.params["layout"] is None  # not one of the official layouts
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not model.net.training
    assert all(not p.requires_grad for p in model.net.parameters())

    x = torch.rand(2, 3, 12, 20, generator=torch.Generator().manual_seed(1))
    original.to(memory_format=torch.channels_last)
    with torch.inference_mode():
        want = original(x.contiguous(memory_format=torch.channels_last))
        got = model.net(x.contiguous(memory_format=torch.channels_last))
    assert got.shape == (2, 3, 12 * scale, 20 * scale)
    assert torch.equal(got, want)

    # a picture that keeps clear of black and white, as a scanned frame does
    frames = np.random.default_rng(2).integers(6554, 58982, (2, 12, 20, 3), dtype=np.uint16)
    out = upscale_frames(model.net, frames, model.scale, tile=None, overlap=0, batch=2)
    assert out.shape == (2, 12 * scale, 20 * scale, 3) and out.dtype == np.uint16
    # not constant and not saturated: a spread of at least 5 % of full range, under 2 % clipped
    assert out.std() > 0.05 * 65535
    assert np.mean((out == 0) | (out == 65535)) < 0.02


def test_params_ema_is_preferred_over_params(tmp_path):
    ema, plain = tiny_srvgg(seed=1), tiny_srvgg(seed=2)
    path = tmp_path / "both.pth"
    torch.save({"params": plain.state_dict(), "params_ema": ema.state_dict()}, path)
    model = load_model(path, device="cpu")
    assert model.params["weights_key"] == "params_ema"
    for name, tensor in ema.state_dict().items():
        assert torch.equal(model.net.state_dict()[name].cpu(), tensor)


# --- the official layouts, written out from the upstream definitions ---------------------------

def official_rrdbnet_shapes(in_ch: int, num_block: int, feat: int = 64, grow: int = 32):
    """Every tensor of basicsr's RRDBNet: conv_first, body.N.rdb{1,2,3}.conv{1..5}, conv_body,
    conv_up1, conv_up2, conv_hr, conv_last; all 3x3 with biases."""
    shapes = {"conv_first.weight": (feat, in_ch, 3, 3), "conv_first.bias": (feat,)}
    for b in range(num_block):
        for r in (1, 2, 3):
            for c in (1, 2, 3, 4, 5):
                out = feat if c == 5 else grow
                shapes[f"body.{b}.rdb{r}.conv{c}.weight"] = (out, feat + (c - 1) * grow, 3, 3)
                shapes[f"body.{b}.rdb{r}.conv{c}.bias"] = (out,)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        shapes[f"{name}.weight"] = (feat, feat, 3, 3)
        shapes[f"{name}.bias"] = (feat,)
    shapes["conv_last.weight"] = (3, feat, 3, 3)
    shapes["conv_last.bias"] = (3,)
    return shapes


def official_srvgg_shapes(num_conv: int, feat: int = 64, scale: int = 4):
    """Every tensor of Real-ESRGAN's SRVGGNetCompact with PReLU: body.0 conv 3 -> feat, then
    (PReLU, conv feat -> feat) pairs, a PReLU, and the last conv feat -> 3 x scale^2."""
    shapes = {"body.0.weight": (feat, 3, 3, 3), "body.0.bias": (feat,)}
    index = 1
    for _ in range(num_conv):
        shapes[f"body.{index}.weight"] = (feat,)
        shapes[f"body.{index + 1}.weight"] = (feat, feat, 3, 3)
        shapes[f"body.{index + 1}.bias"] = (feat,)
        index += 2
    shapes[f"body.{index}.weight"] = (feat,)
    shapes[f"body.{index + 1}.weight"] = (3 * scale * scale, feat, 3, 3)
    shapes[f"body.{index + 1}.bias"] = (3 * scale * scale,)
    return shapes


OFFICIAL = {
    "RealESRGAN_x4plus": (lambda: RRDBNet(scale=4, num_feat=64, num_block=23, num_grow_ch=32),
                          official_rrdbnet_shapes(3, 23)),
    "RealESRGAN_x2plus": (lambda: RRDBNet(scale=2, num_feat=64, num_block=23, num_grow_ch=32),
                          official_rrdbnet_shapes(12, 23)),
    "RealESRGAN_x4plus_anime_6B": (lambda: RRDBNet(scale=4, num_feat=64, num_block=6,
                                                   num_grow_ch=32),
                                   official_rrdbnet_shapes(3, 6)),
    "realesr-general-x4v3": (lambda: SRVGGNetCompact(num_feat=64, num_conv=32, upscale=4),
                             official_srvgg_shapes(32)),
    "realesr-animevideov3": (lambda: SRVGGNetCompact(num_feat=64, num_conv=16, upscale=4),
                             official_srvgg_shapes(16)),
}


@pytest.mark.parametrize("name", list(OFFICIAL))
def test_official_layouts_have_the_upstream_tensor_names_and_shapes(name):
    build, expected = OFFICIAL[name]
    ours = {k: tuple(v.shape) for k, v in build().state_dict().items()}
    assert sorted(ours) == sorted(expected)
    assert ours == expected
    # detection from shapes alone (no network of ours involved) names the layout
    fake = {k: torch.empty(shape) for k, shape in expected.items()}
    detected = detect_architecture(fake)
    assert {k: detected[k] for k in OFFICIAL_LAYOUTS[name]} == OFFICIAL_LAYOUTS[name]


def test_official_sizes_match_the_published_parameter_counts():
    # ESRGAN's RRDB generator (23 blocks, 64 features, growth 32) has 16,697,987 parameters,
    # 702 tensors; the x2 variant adds 9 extra input channels x 64 x 3 x 3 to conv_first.
    x4 = OFFICIAL["RealESRGAN_x4plus"][1]
    assert sum(int(np.prod(s)) for s in x4.values()) == 16_697_987
    assert len(x4) == 702
    x2 = OFFICIAL["RealESRGAN_x2plus"][1]
    assert sum(int(np.prod(s)) for s in x2.values()) == 16_697_987 + 9 * 64 * 9
    # general-x4v3: 3->64 conv (1,792) + 32 x (64->64 conv 36,928) + 33 PReLU x 64
    # + 64->48 conv (27,696)
    v3 = OFFICIAL["realesr-general-x4v3"][1]
    assert sum(int(np.prod(s)) for s in v3.values()) == 1792 + 32 * 36928 + 33 * 64 + 27696


# --- errors ---------------------------------------------------------------------------------------

def assert_model_error(path: Path, *fragments: str):
    with pytest.raises(ModelError) as caught:
        load_model(path, device="cpu")
    message = str(caught.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_garbage_bytes_are_not_a_weight_file(tmp_path):
    path = tmp_path / "garbage.pth"
    path.write_bytes(b"this is not a torch file\x00\x01\x02" * 10)
    assert_model_error(path, "not a readable PyTorch weight file")


def test_empty_file_is_not_a_weight_file(tmp_path):
    path = tmp_path / "empty.pth"
    path.write_bytes(b"")
    assert_model_error(path, "not a readable PyTorch weight file")


def test_truncated_file_is_refused(tmp_path):
    path = save_like_official(tiny_srvgg(), tmp_path / "whole.pth", "params")
    cut = tmp_path / "truncated.pth"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    assert_model_error(cut, "not a readable PyTorch weight file")


def test_missing_file_is_named_and_never_downloaded(tmp_path):
    assert_model_error(tmp_path / "RealESRGAN_x4plus.pth", "no such weight file")


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "code.pth"
    torch.save({"params": {"conv.weight": torch.zeros(1)}, "hook": Path("/tmp")}, path)
    assert_model_error(path, "not a readable PyTorch weight file")


def test_unknown_architecture_lists_its_tensors(tmp_path):
    other = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 3, 3))
    path = tmp_path / "unknown_net.pth"
    torch.save({"params": other.state_dict()}, path)
    message = assert_model_error(path, "unknown architecture")
    assert "0.weight" in message and "2.bias" in message


def test_a_tensor_of_the_wrong_shape_is_refused(tmp_path):
    sd = tiny_rrdbnet(4).state_dict()
    sd["body.1.rdb2.conv3.weight"] = torch.zeros(4, 15, 3, 3)  # expects (4, 16, 3, 3)
    path = tmp_path / "misshapen.pth"
    torch.save({"params_ema": sd}, path)
    assert_model_error(path, "do not fit", "body.1.rdb2.conv3.weight")


def test_a_missing_tensor_is_refused(tmp_path):
    sd = tiny_rrdbnet(4).state_dict()
    del sd["conv_hr.bias"]
    path = tmp_path / "incomplete.pth"
    torch.save(sd, path)
    assert_model_error(path, "do not fit", "conv_hr.bias")


def test_non_finite_weights_are_refused(tmp_path):
    sd = tiny_srvgg().state_dict()
    sd["body.2.weight"][0, 0, 0, 0] = float("nan")
    path = tmp_path / "nan.pth"
    torch.save({"params": sd}, path)
    assert_model_error(path, "NaN", "body.2.weight")


def test_srvgg_without_prelu_weights_is_refused_not_guessed(tmp_path):
    relu = SRVGGNetCompact(num_feat=8, num_conv=2, upscale=4, act_type="relu")
    path = tmp_path / "relu.pth"
    torch.save({"params": relu.state_dict()}, path)
    assert_model_error(path, "PReLU")


# --- devices --------------------------------------------------------------------------------------

def test_cpu_is_always_available():
    assert pick_device("cpu").type == "cpu"


def test_auto_picks_cuda_only_when_present():
    assert pick_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("auto") == pick_device(None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_it_is_a_clear_error():
    with pytest.raises(ModelError, match="no CUDA device"):
        pick_device("cuda")


def test_unknown_device_is_refused():
    with pytest.raises(ModelError, match="unknown device"):
        pick_device("tpu")


def _reference_rrdbnet(net: RRDBNet, x: torch.Tensor) -> torch.Tensor:
    """ESRGAN's forward written out with out-of-place arithmetic, as upstream does it."""
    from torch.nn import functional as F

    def lrelu(t: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(t, 0.2)

    def rdb(b, t: torch.Tensor) -> torch.Tensor:
        x1 = lrelu(b.conv1(t))
        x2 = lrelu(b.conv2(torch.cat((t, x1), 1)))
        x3 = lrelu(b.conv3(torch.cat((t, x1, x2), 1)))
        x4 = lrelu(b.conv4(torch.cat((t, x1, x2, x3), 1)))
        return b.conv5(torch.cat((t, x1, x2, x3, x4), 1)) * 0.2 + t

    feat = F.pixel_unshuffle(x, net.unshuffle) if net.unshuffle > 1 else x
    feat = net.conv_first(feat)
    trunk = feat
    for block in net.body:
        trunk = rdb(block.rdb3, rdb(block.rdb2, rdb(block.rdb1, trunk))) * 0.2 + trunk
    feat = feat + net.conv_body(trunk)
    feat = lrelu(net.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
    feat = lrelu(net.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
    return net.conv_last(lrelu(net.conv_hr(feat)))


def _reference_srvgg(net: SRVGGNetCompact, x: torch.Tensor) -> torch.Tensor:
    from torch.nn import functional as F

    out = x
    for layer in net.body:
        out = layer(out)
    return F.pixel_shuffle(out, net.scale) + F.interpolate(x, scale_factor=net.scale,
                                                          mode="nearest")


@pytest.mark.parametrize("scale", [4, 2])
def test_in_place_forward_is_bit_identical_and_leaves_the_input_alone(scale):
    """The forward passes update fresh tensors in place (to save memory traffic); the result
    must be exactly upstream's out-of-place arithmetic, and the caller's input untouched."""
    x = torch.rand(2, 3, 12, 10, generator=torch.Generator().manual_seed(scale))
    for net, reference in ((tiny_rrdbnet(scale), _reference_rrdbnet),
                           (tiny_srvgg(scale), _reference_srvgg)):
        before = x.clone()
        with torch.inference_mode():
            got, want = net(x), reference(net, x)
        assert torch.equal(x, before)
        assert torch.equal(got, want)
