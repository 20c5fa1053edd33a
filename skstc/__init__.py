"""skstc: scikit-learn compatible self-training short-text clustering in PyTorch."""

from ._stc import STCClustering

__version__ = "0.1.0"

__all__ = ["STCClustering", "__version__"]
