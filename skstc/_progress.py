"""Progress bars for the long phases of a fit (tqdm, when it is installed)."""

from __future__ import annotations

import os


class _NoBar:
    """Stands in for a tqdm bar when progress is off: every call does nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "it"):
    """A tqdm bar of ``total`` steps (``tqdm.auto``: a widget in notebooks, else stderr).

    A do-nothing bar when ``enabled`` is false, when tqdm is not installed (it comes with
    the ``progress`` and ``text`` extras) or when the environment variable ``TQDM_DISABLE``
    is set to a true value at the time of the call (tqdm itself reads it only on import).
    """
    if not enabled or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes"):
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)
