"""Frame repair with learned networks: super-resolution with Real-ESRGAN-family weights.

* :mod:`.networks` -- our own torch definitions of RRDBNet and SRVGGNetCompact, matching the
  official weight files' tensor names and shapes.
* :mod:`.models` -- loading a local ``.pth`` (``params_ema``, ``params`` or a bare state dict),
  detecting architecture and scale from the weights, choosing the device; :class:`ModelError`.
* :mod:`.tiling` -- running a network over uint16 frames: tiles with context and feathered
  blending, batching, memory-based tile choice, fp32 by default with bf16/fp16 fast modes.

Importing this package does not import torch; the submodules that need it do.
"""
