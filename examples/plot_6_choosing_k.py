"""
Choosing the number of clusters
===============================

When the number of topics is unknown, fit STC for several ``n_clusters`` and compare the
unsupervised :meth:`~skstc.STCClustering.score` (silhouette in the input space). The true
number of AgNews classes is 4; the NMI curve (which needs labels) is shown for reference
only. 2,000 texts, a small network, under a minute.

On this sample the silhouette keeps rising slowly with k and does not single out 4, while
NMI peaks at 3–4: treat the silhouette as one signal among others (cluster sizes, top
terms), not as an oracle.
"""

import matplotlib.pyplot as plt
import numpy as np

from skstc import STCClustering
from skstc.datasets import load_agnews
from skstc.embeddings import TfidfSVDEmbedding
from skstc.metrics import evaluate

texts, y = load_agnews(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 2000, replace=False)
texts, y = [texts[i] for i in idx], y[idx]
X = TfidfSVDEmbedding(50, random_state=0).fit_transform(texts)

ks = [2, 3, 4, 6, 8, 10]
silhouettes, nmis = [], []
for k in ks:
    stc = STCClustering(k, hidden_dims=(256, 256, 512), max_iter=200, update_interval=50,
                        random_state=0).fit(X)
    silhouettes.append(stc.score(X))
    nmis.append(evaluate(y, stc.labels_)["NMI"])
    print(f"k={k:2d}  silhouette {silhouettes[-1]:.3f}  NMI {nmis[-1]:.3f}")

# Each score on an axis of its own: the silhouette moves in a much narrower range than NMI.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
for ax, values, name, marker in [
    (axes[0], silhouettes, "silhouette (unsupervised)", "o"),
    (axes[1], nmis, "NMI vs gold labels (reference)", "s"),
]:
    ax.plot(ks, values, marker=marker)
    ax.axvline(4, color="grey", ls="--", label="true number of classes")
    ax.set(xlabel="n_clusters", ylabel=name, xticks=ks, title=name)
axes[0].legend(loc="lower right")
fig.suptitle("AgNews (2,000 texts), TF-IDF + SVD")
plt.show()
