"""Super-resolution network definitions that load the official Real-ESRGAN weight files.

Two families, written here in plain torch so that the official ``.pth`` files load unchanged
(same module names, same tensor shapes, same arithmetic) without basicsr, realesrgan or
torchvision:

* :class:`RRDBNet` -- ESRGAN's Residual-in-Residual Dense Block network as used by
  RealESRGAN_x4plus (64 features, 23 blocks), RealESRGAN_x2plus (the same with a 2x2
  pixel-unshuffle in front) and RealESRGAN_x4plus_anime_6B (6 blocks).
* :class:`SRVGGNetCompact` -- the compact VGG-style network of realesr-general-x4v3
  (64 features, 32 body convolutions) and realesr-animevideov3 (16 body convolutions).

Both take and return ``float32`` tensors shaped ``(batch, 3, height, width)``, RGB, nominally
0.0 .. 1.0 (outputs may overshoot; callers clamp). Outputs are ``scale`` times larger in each
spatial dimension. Every spatial input size must be a multiple of :attr:`input_multiple`.

This module imports torch at the top; ``restoration.repair`` itself does not import it.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["RRDBNet", "ResidualDenseBlock", "RRDB", "SRVGGNetCompact", "init_scaled_kaiming"]

# Residual scaling in the dense blocks, and the LeakyReLU slope, as published with ESRGAN.
RESIDUAL_SCALE = 0.2
LRELU_SLOPE = 0.2


@torch.no_grad()
def init_scaled_kaiming(modules: list[nn.Module], scale: float = 1.0, bias: float = 0.0) -> None:
    """Initialise every ``Conv2d`` under ``modules`` with Kaiming-normal weights times ``scale``.

    This is how ESRGAN's dense blocks start training (weights scaled by 0.1 so that the deep
    residual trunk begins close to the identity). Biases are filled with ``bias``.

    Parameters
    ----------
    modules : modules whose ``Conv2d`` descendants are initialised in place.
    scale : factor applied to the Kaiming-normal weights (dimensionless).
    bias : value for every bias.
    """
    for module in modules:
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
                m.weight.mul_(scale)
                if m.bias is not None:
                    m.bias.fill_(bias)


def _conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=1, padding=1)


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with a scaled residual (ESRGAN's RDB).

    Parameters
    ----------
    num_feat : channels in and out.
    num_grow_ch : channels each of the first four convolutions adds to the running concatenation.
    """

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.conv1 = _conv3x3(num_feat, num_grow_ch)
        self.conv2 = _conv3x3(num_feat + num_grow_ch, num_grow_ch)
        self.conv3 = _conv3x3(num_feat + 2 * num_grow_ch, num_grow_ch)
        self.conv4 = _conv3x3(num_feat + 3 * num_grow_ch, num_grow_ch)
        self.conv5 = _conv3x3(num_feat + 4 * num_grow_ch, num_feat)
        self.lrelu = nn.LeakyReLU(negative_slope=LRELU_SLOPE, inplace=True)
        init_scaled_kaiming([self.conv1, self.conv2, self.conv3, self.conv4, self.conv5], 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.lrelu(self.conv1(x))
        x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        # in place on the fresh conv output: the same arithmetic as x5 * 0.2 + x, one
        # full-size tensor fewer per block
        return x5.mul_(RESIDUAL_SCALE).add_(x)


class RRDB(nn.Module):
    """Three dense blocks in sequence with a scaled residual around them.

    Parameters
    ----------
    num_feat : channels in and out.
    num_grow_ch : growth channels of each dense block.
    """

    def __init__(self, num_feat: int, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.rdb3(self.rdb2(self.rdb1(x)))
        return out.mul_(RESIDUAL_SCALE).add_(x)  # out is rdb3's own fresh tensor


class RRDBNet(nn.Module):
    """ESRGAN generator with Real-ESRGAN's pixel-unshuffle front end for scales 2 and 1.

    For ``scale=4`` the RGB input goes straight into ``conv_first``; for ``scale=2`` it is first
    pixel-unshuffled by 2 (12 channels), for ``scale=1`` by 4 (48 channels). The trunk runs at
    that (reduced) resolution; two nearest-neighbour x2 upsamplings, each followed by a 3x3
    convolution and LeakyReLU(0.2), bring it to ``scale`` times the input.

    Parameters
    ----------
    num_in_ch : image channels in (3 for RGB), before any pixel-unshuffle.
    num_out_ch : image channels out (3 for RGB).
    scale : 1, 2 or 4 (output size / input size).
    num_feat : trunk channels (64 in the official files).
    num_block : RRDB blocks in the trunk (23 for x4plus/x2plus, 6 for anime_6B).
    num_grow_ch : dense-block growth channels (32 in the official files).
    """

    arch = "RRDBNet"

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, scale: int = 4,
                 num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBNet scale must be 1, 2 or 4, not {scale}")
        self.scale = scale
        self.num_feat = num_feat
        self.num_block = num_block
        self.num_grow_ch = num_grow_ch
        self.unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = _conv3x3(num_in_ch * self.unshuffle**2, num_feat)
        self.body = nn.Sequential(*(RRDB(num_feat, num_grow_ch) for _ in range(num_block)))
        self.conv_body = _conv3x3(num_feat, num_feat)
        self.conv_up1 = _conv3x3(num_feat, num_feat)
        self.conv_up2 = _conv3x3(num_feat, num_feat)
        self.conv_hr = _conv3x3(num_feat, num_feat)
        self.conv_last = _conv3x3(num_feat, num_out_ch)
        self.lrelu = nn.LeakyReLU(negative_slope=LRELU_SLOPE, inplace=True)

    @property
    def input_multiple(self) -> int:
        """Input height and width must be multiples of this (the pixel-unshuffle factor)."""
        return self.unshuffle

    def bytes_per_input_pixel(self, dtype_bytes: int = 4) -> float:
        """Rough peak activation memory per input pixel (bytes), for choosing a tile size.

        The largest tensors live at the output resolution after the second upsampling: an
        interpolated copy, the conv output and the next conv's output, ``num_feat`` channels
        each (3 x scale^2 x num_feat values per input pixel); the trunk's dense concatenations
        add about 8 x num_feat values per input pixel at the reduced resolution.
        """
        hr = 3 * self.scale**2 * self.num_feat
        lr = 8 * self.num_feat + 4 * self.num_grow_ch
        return float(dtype_bytes * (hr + lr))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = F.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        feat = self.conv_first(feat)
        feat = self.conv_body(self.body(feat)).add_(feat)
        feat = self.lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


_ACTIVATIONS = ("prelu", "relu", "leakyrelu")


class SRVGGNetCompact(nn.Module):
    """Compact VGG-style super-resolution network (Real-ESRGAN's realesr-*-v3 models).

    ``body`` is a flat list: conv(in -> feat), activation, then ``num_conv`` pairs of
    conv(feat -> feat) and activation, then conv(feat -> out x scale^2). The result is
    pixel-shuffled to ``scale`` times the input size and the nearest-neighbour upsampled input is
    added, so the network learns a residual. All work happens at the input resolution.

    Parameters
    ----------
    num_in_ch, num_out_ch : image channels (3 for RGB).
    num_feat : feature channels (64 in the official files).
    num_conv : body convolutions between the first and the last (32 for general-x4v3, 16 for
        animevideov3).
    upscale : output size / input size (4 in the official files).
    act_type : ``"prelu"`` (one learned slope per channel; the official files), ``"relu"`` or
        ``"leakyrelu"`` (slope 0.1).
    """

    arch = "SRVGGNetCompact"
    input_multiple = 1

    def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64,
                 num_conv: int = 16, upscale: int = 4, act_type: str = "prelu") -> None:
        super().__init__()
        if act_type not in _ACTIVATIONS:
            raise ValueError(f"act_type must be one of {_ACTIVATIONS}, not {act_type!r}")
        self.scale = upscale
        self.num_feat = num_feat
        self.num_conv = num_conv
        self.act_type = act_type
        layers: list[nn.Module] = [_conv3x3(num_in_ch, num_feat), self._activation(num_feat)]
        for _ in range(num_conv):
            layers += [_conv3x3(num_feat, num_feat), self._activation(num_feat)]
        layers.append(_conv3x3(num_feat, num_out_ch * upscale * upscale))
        self.body = nn.ModuleList(layers)
        self.upsampler = nn.PixelShuffle(upscale)

    def _activation(self, num_feat: int) -> nn.Module:
        if self.act_type == "prelu":
            return nn.PReLU(num_parameters=num_feat)
        if self.act_type == "relu":
            return nn.ReLU(inplace=True)
        return nn.LeakyReLU(negative_slope=0.1, inplace=True)

    def bytes_per_input_pixel(self, dtype_bytes: int = 4) -> float:
        """Rough peak activation memory per input pixel (bytes): two feature maps at the input
        resolution, the last conv's output and the upscaled image plus its nearest-neighbour base.
        """
        last = self.body[-1].out_channels  # type: ignore[union-attr]
        return float(dtype_bytes * (2 * self.num_feat + 2 * last + 2 * 3 * self.scale**2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.body:
            out = layer(out)
        out = self.upsampler(out)
        return out.add_(F.interpolate(x, scale_factor=self.scale, mode="nearest"))
