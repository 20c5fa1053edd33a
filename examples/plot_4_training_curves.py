"""
Training curves from ``history_``
=================================

Reconstruction loss per pretraining epoch, KL(P‖Q) at every refresh of the target P, and
the fraction of labels that changed between refreshes (training stops below ``self_train["tol"]``).
Uses 3,000 SearchSnippets texts so that it runs in under a minute.
"""

import matplotlib.pyplot as plt
import numpy as np

from skstc import STCClustering
from skstc.datasets import load_searchsnippets
from skstc.embeddings import TfidfSVDEmbedding
from skstc.metrics import cluster_accuracy
from skstc.plotting import plot_history

texts, y = load_searchsnippets(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 3000, replace=False)
texts, y = [texts[i] for i in idx], y[idx]
X = TfidfSVDEmbedding(100, random_state=0).fit_transform(texts)

stc = STCClustering(8, max_iter=600, self_train={"update_interval": 50}, random_state=0).fit(X)
print(f"ACC before self-training {cluster_accuracy(y, stc.init_labels_):.3f}, "
      f"after {cluster_accuracy(y, stc.labels_):.3f}, steps {stc.n_iter_}")
print("seconds per phase:", {k: round(v, 1) for k, v in stc.history_["time"].items()})

plot_history(stc)
plt.show()
