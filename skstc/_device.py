"""Where and in which arithmetic STC trains: device and precision resolution, CPU copies."""

from __future__ import annotations

import contextlib
import copy

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other values as torch understands them."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this machine; "
            "use device='cpu' or device='auto'."
        )
    return resolved


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 matrix products natively (fast)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        # private helpers (torch >= 2.1); without them, assume no native support
        avx512_bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
        return bool(avx512_bf16() or amx())
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` -> ``"bfloat16"`` where ``device`` has native bfloat16, else ``"float32"``."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16(device) else "float32"
    if precision == "bfloat16" and device.type not in ("cpu", "cuda"):
        raise ValueError(
            f"precision='bfloat16' is supported on CPU and CUDA devices, not {device.type!r}; "
            "use precision='float32'."
        )
    return precision


def autocast(device: torch.device, dtype: torch.dtype | None):
    """Mixed precision for the training passes: matmuls in ``dtype``, weights and the
    optimiser state in float32; a no-op when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def cpu_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``module`` whose parameters live on the CPU."""
    if all(p.device.type == "cpu" for p in module.parameters()):
        return module
    return copy.deepcopy(module).cpu()
