"""skstc: scikit-learn compatible self-training short-text clustering in PyTorch."""

from ._stc import STCClustering
from .selection import NClustersSelection, select_n_clusters

__version__ = "0.1.0"

__all__ = ["NClustersSelection", "STCClustering", "__version__", "select_n_clusters"]
