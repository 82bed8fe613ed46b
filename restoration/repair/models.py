"""Loading super-resolution weight files: checks, architecture detection, device choice.

A weight file is a local ``.pth`` as Real-ESRGAN publishes it: a torch zip archive holding a
dict with ``params_ema`` (the exponential-moving-average weights, preferred) and/or ``params``,
or a bare state dict. The architecture and its hyper-parameters (scale, features, blocks) are
read from the tensor names and shapes; the network is built from :mod:`.networks` and the
weights are loaded strictly. Nothing is ever downloaded: a missing file is an error.

Every problem with a file -- not a torch file, truncated, corrupt, an architecture we do not
know, tensors that do not fit -- is raised as :class:`ModelError` naming the file.

torch is imported inside the functions, so importing this module is cheap.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

__all__ = [
    "OFFICIAL_LAYOUTS",
    "LoadedModel",
    "ModelError",
    "build_network",
    "detect_architecture",
    "file_sha256",
    "load_model",
    "pick_device",
]

# The published Real-ESRGAN weight files and the hyper-parameters their inference script builds
# them with (inference_realesrgan.py). Used to name a detected layout, never to fetch anything.
OFFICIAL_LAYOUTS: dict[str, dict[str, Any]] = {
    "RealESRGAN_x4plus": {"arch": "RRDBNet", "scale": 4, "num_in_ch": 3, "num_out_ch": 3,
                          "num_feat": 64, "num_block": 23, "num_grow_ch": 32},
    "RealESRGAN_x2plus": {"arch": "RRDBNet", "scale": 2, "num_in_ch": 3, "num_out_ch": 3,
                          "num_feat": 64, "num_block": 23, "num_grow_ch": 32},
    "RealESRGAN_x4plus_anime_6B": {"arch": "RRDBNet", "scale": 4, "num_in_ch": 3,
                                   "num_out_ch": 3, "num_feat": 64, "num_block": 6,
                                   "num_grow_ch": 32},
    "realesr-general-x4v3": {"arch": "SRVGGNetCompact", "scale": 4, "num_in_ch": 3,
                             "num_out_ch": 3, "num_feat": 64, "num_conv": 32,
                             "act_type": "prelu"},
    "realesr-animevideov3": {"arch": "SRVGGNetCompact", "scale": 4, "num_in_ch": 3,
                             "num_out_ch": 3, "num_feat": 64, "num_conv": 16,
                             "act_type": "prelu"},
}

_HASH_CHUNK = 1 << 20  # bytes read at a time when hashing a weight file


class ModelError(ValueError):
    """A weight file cannot be used; the message names the file and says why."""


@dataclass(frozen=True)
class LoadedModel:
    """A network ready for inference, and what was learned about its file.

    Attributes
    ----------
    name : the file's name without its extension (``RealESRGAN_x4plus``).
    arch : ``"RRDBNet"`` or ``"SRVGGNetCompact"``.
    scale : output size / input size (1, 2 or 4 for RRDBNet; any integer for SRVGGNetCompact).
    net : the torch module, in eval mode, gradients off, channels-last, on the chosen device.
        Takes float32 RGB ``(N, 3, H, W)`` in 0..1.
    sha256 : hex SHA-256 of the file's bytes, for provenance.
    params : detected hyper-parameters (see :func:`detect_architecture`) plus ``weights_key``
        (``"params_ema"``, ``"params"`` or ``None`` for a bare state dict), ``layout`` (the
        official file whose layout this matches, or ``None``) and ``device``.
    """

    name: str
    arch: str
    scale: int
    net: Any = field(repr=False)
    sha256: str
    params: dict[str, Any]


def pick_device(requested: str | None = None) -> torch.device:
    """The torch device to run on.

    Parameters
    ----------
    requested : ``None`` or ``"auto"`` -- CUDA when available, else the CPU; ``"cpu"``;
        ``"cuda"`` or ``"cuda:N"`` -- refused with :class:`ModelError` when CUDA is missing.
    """
    import torch

    choice = (requested or "auto").strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if re.fullmatch(r"cuda(:\d+)?", choice):
        if not torch.cuda.is_available():
            raise ModelError(f"device {requested!r} asked for, but torch sees no CUDA device "
                             f"(torch {torch.__version__}, CUDA build: {torch.version.cuda})")
        device = torch.device(choice)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ModelError(f"device {requested!r} asked for, but only "
                             f"{torch.cuda.device_count()} CUDA device(s) are present")
        return device
    raise ModelError(f"unknown device {requested!r}: expected auto, cpu, cuda or cuda:N")


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(_HASH_CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def _indices(keys: list[str], pattern: str) -> list[int]:
    return sorted({int(m.group(1)) for k in keys if (m := re.fullmatch(pattern, k))})


def _shape(sd: Mapping[str, Any], key: str) -> tuple[int, ...]:
    return tuple(int(n) for n in sd[key].shape)


def _describe_keys(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    more = f", ... ({len(keys)} in all)" if len(keys) > limit else ""
    return f"[{shown}{more}]"


def _detect_rrdbnet(sd: Mapping[str, Any]) -> dict[str, Any]:
    keys = list(sd)
    first = _shape(sd, "conv_first.weight")  # (num_feat, in_ch * unshuffle^2, 3, 3)
    last = _shape(sd, "conv_last.weight")  # (num_out_ch, num_feat, 3, 3)
    num_feat, packed_in = first[0], first[1]
    num_out_ch = last[0]
    # The official files are RGB in and out, so conv_first's input channels over the output
    # channels give the pixel-unshuffle factor squared: 1 -> x4, 4 -> x2, 16 -> x1.
    ratio, rest = divmod(packed_in, num_out_ch)
    scale = {1: 4, 4: 2, 16: 1}.get(ratio) if rest == 0 else None
    if scale is None:
        raise ModelError(f"RRDBNet conv_first takes {packed_in} channels for {num_out_ch} out: "
                         "expected 1x (scale 4), 4x (scale 2) or 16x (scale 1)")
    blocks = _indices(keys, r"body\.(\d+)\..*")
    if blocks != list(range(len(blocks))) or not blocks:
        raise ModelError(f"RRDBNet body blocks are not numbered 0..n-1: {blocks[:10]}")
    grow = _shape(sd, "body.0.rdb1.conv1.weight")[0]
    return {"arch": "RRDBNet", "scale": scale, "num_in_ch": num_out_ch, "num_out_ch": num_out_ch,
            "num_feat": num_feat, "num_block": len(blocks), "num_grow_ch": grow}


def _detect_srvgg(sd: Mapping[str, Any]) -> dict[str, Any]:
    keys = list(sd)
    layers = _indices(keys, r"body\.(\d+)\.weight")
    convs = [i for i in layers if len(_shape(sd, f"body.{i}.weight")) == 4]
    prelus = [i for i in layers if len(_shape(sd, f"body.{i}.weight")) == 1]
    if not convs or convs[0] != 0:
        raise ModelError("SRVGGNetCompact body.0 is not a convolution")
    if not prelus:
        # ReLU and LeakyReLU carry no weights, so the two cannot be told apart from the file.
        raise ModelError("SRVGGNetCompact without PReLU weights: its activation (relu or "
                         "leakyrelu) cannot be read from the weights")
    first = _shape(sd, "body.0.weight")  # (num_feat, num_in_ch, 3, 3)
    num_feat, num_in_ch = first[0], first[1]
    expected_convs = list(range(0, convs[-1] + 1, 2))
    if convs != expected_convs or prelus != list(range(1, convs[-1], 2)):
        raise ModelError("SRVGGNetCompact layers are not conv/PReLU pairs "
                         f"(convolutions at {convs[:10]}, PReLU at {prelus[:10]})")
    num_conv = len(convs) - 2
    packed_out = _shape(sd, f"body.{convs[-1]}.weight")[0]  # num_out_ch * scale^2
    num_out_ch = num_in_ch
    scale = round((packed_out / num_out_ch) ** 0.5)
    if scale < 1 or num_out_ch * scale * scale != packed_out:
        raise ModelError(f"SRVGGNetCompact last conv gives {packed_out} channels: not "
                         f"{num_out_ch} x scale^2 for any whole scale")
    return {"arch": "SRVGGNetCompact", "scale": scale, "num_in_ch": num_in_ch,
            "num_out_ch": num_out_ch, "num_feat": num_feat, "num_conv": num_conv,
            "act_type": "prelu"}


def detect_architecture(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The architecture and hyper-parameters a state dict was saved from.

    RRDBNet is recognised by ``conv_first``/``conv_last``/``body.0.rdb1.conv1`` weights:
    ``num_feat`` and the pixel-unshuffle factor from ``conv_first.weight`` (in channels 3 ->
    scale 4, 12 -> scale 2, 48 -> scale 1), ``num_block`` by counting ``body.N``,
    ``num_grow_ch`` from ``body.0.rdb1.conv1.weight``. SRVGGNetCompact is recognised by a
    ``body.N.weight`` list starting with a 4-D conv: ``num_feat`` from ``body.0``, PReLU from
    the 1-D weights at odd indices, ``num_conv`` from the number of convolutions less the first
    and last, and the scale from the last conv's out channels (``3 x scale^2``).

    Parameters
    ----------
    state_dict : tensor name -> tensor (anything with ``.shape``).

    Returns
    -------
    dict
        ``arch`` (``"RRDBNet"`` | ``"SRVGGNetCompact"``), ``scale``, ``num_in_ch``,
        ``num_out_ch``, ``num_feat``, and ``num_block`` + ``num_grow_ch`` (RRDBNet) or
        ``num_conv`` + ``act_type`` (SRVGGNetCompact).

    Raises
    ------
    ModelError
        For a layout that is neither, listing the first tensor names.
    """
    keys = list(state_dict)
    if {"conv_first.weight", "conv_last.weight", "body.0.rdb1.conv1.weight"} <= set(keys):
        return _detect_rrdbnet(state_dict)
    if "body.0.weight" in state_dict and all(re.fullmatch(r"body\.\d+\.(weight|bias)", k)
                                             for k in keys):
        return _detect_srvgg(state_dict)
    raise ModelError("unknown architecture: the tensor names match neither RRDBNet nor "
                     f"SRVGGNetCompact; {len(keys)} tensors {_describe_keys(keys)}")


def build_network(params: Mapping[str, Any]) -> torch.nn.Module:
    """A freshly initialised network for hyper-parameters from :func:`detect_architecture`."""
    from .networks import RRDBNet, SRVGGNetCompact

    if params["arch"] == "RRDBNet":
        return RRDBNet(num_in_ch=params["num_in_ch"], num_out_ch=params["num_out_ch"],
                       scale=params["scale"], num_feat=params["num_feat"],
                       num_block=params["num_block"], num_grow_ch=params["num_grow_ch"])
    if params["arch"] == "SRVGGNetCompact":
        return SRVGGNetCompact(num_in_ch=params["num_in_ch"], num_out_ch=params["num_out_ch"],
                               num_feat=params["num_feat"], num_conv=params["num_conv"],
                               upscale=params["scale"], act_type=params["act_type"])
    raise ModelError(f"unknown architecture {params['arch']!r}")


def _official_layout(params: Mapping[str, Any]) -> str | None:
    for name, layout in OFFICIAL_LAYOUTS.items():
        if all(params.get(k) == v for k, v in layout.items()):
            return name
    return None


def _pick_state_dict(blob: Any) -> tuple[str | None, Mapping[str, Any]]:
    """(which key, state dict) from what torch.load returned."""
    import torch

    if not isinstance(blob, Mapping):
        raise ModelError(f"holds a {type(blob).__name__}, not a dict of weights")
    for key in ("params_ema", "params"):
        if key in blob:
            if not isinstance(blob[key], Mapping):
                raise ModelError(f"{key!r} holds a {type(blob[key]).__name__}, not a state dict")
            return key, blob[key]
    if blob and all(isinstance(v, torch.Tensor) for v in blob.values()):
        return None, blob
    raise ModelError("no 'params_ema' or 'params' entry and not a bare state dict; top-level "
                     f"entries {_describe_keys([str(k) for k in blob])}")


def _clean_state_dict(sd: Mapping[str, Any]) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    for key, value in sd.items():
        if not isinstance(value, torch.Tensor):
            raise ModelError(f"entry {key!r} is a {type(value).__name__}, not a tensor")
        if not value.is_floating_point():
            raise ModelError(f"tensor {key!r} is {value.dtype}, not floating point")
        if not bool(torch.isfinite(value).all()):
            raise ModelError(f"tensor {key!r} holds NaN or infinite values (a corrupt file?)")
        # Weights saved from a DataParallel wrapper carry a "module." prefix.
        out[key.removeprefix("module.")] = value
    return out


def load_model(path: Path | str, device: str | torch.device | None = None) -> LoadedModel:
    """Load an official-layout Real-ESRGAN weight file into our own network definition.

    The file is opened with ``torch.load(weights_only=True)`` (no code from the file runs) on
    the CPU; ``params_ema`` is preferred, then ``params``, else a bare state dict. The
    architecture is detected (:func:`detect_architecture`), the network built and the weights
    loaded strictly (every tensor present and of the right shape). The network is put in eval
    mode with gradients off, moved to the device in float32, channels-last.

    Parameters
    ----------
    path : the ``.pth`` file on local storage.
    device : see :func:`pick_device`; a ``torch.device`` is used as given.

    Raises
    ------
    ModelError
        Naming the file: missing, not a torch file, truncated or corrupt, unknown architecture,
        tensors that do not fit, or the device asked for is unavailable.
    """
    import torch

    path = Path(path)
    label = path.name

    def fail(why: str) -> ModelError:
        return ModelError(f"{label}: {why}")

    if not path.is_file():
        raise fail("no such weight file (weights are never downloaded: place the file in the "
                   "model folder)")
    sha256 = file_sha256(path)
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ValueError...
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise fail(f"not a readable PyTorch weight file (corrupt, truncated or another format): "
                   f"{type(exc).__name__}: {first_line}") from exc
    try:
        weights_key, raw = _pick_state_dict(blob)
        sd = _clean_state_dict(raw)
        params = detect_architecture(sd)
        net = build_network(params)
    except ModelError as exc:
        raise fail(str(exc)) from exc
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise fail(f"the weights do not fit a {params['arch']} with {params}: {detail}") from exc
    dev = device if isinstance(device, torch.device) else pick_device(device)
    net.eval().requires_grad_(False)
    net.to(device=dev, dtype=torch.float32, memory_format=torch.channels_last)
    params = {**params, "weights_key": weights_key, "layout": _official_layout(params),
              "device": str(dev)}
    log.info("loaded %s: %s x%d (%s), sha256 %s, on %s", label, params["arch"],
             params["scale"], params["layout"] or "custom layout", sha256[:12], dev)
    return LoadedModel(name=path.stem, arch=params["arch"], scale=params["scale"], net=net,
                       sha256=sha256, params=params)
