"""
Quickstart: a text-clustering pipeline on StackOverflow
=======================================================

TF-IDF + SVD embeddings of StackOverflow titles, clustered by STC into 20 clusters and
compared with k-means on the same matrix. A random 4,000 of the 20,000 titles keep this
page quick to build (under two minutes on 2 CPU cores); drop the subsampling for the
whole set, the setting of :doc:`/benchmarks`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline

from skstc import STCClustering
from skstc.datasets import load_stackoverflow
from skstc.embeddings import TfidfSVDEmbedding
from skstc.metrics import evaluate

texts, y = load_stackoverflow(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 4000, replace=False)
texts, y = [texts[i] for i in idx], y[idx]

model = make_pipeline(TfidfSVDEmbedding(100, random_state=0),
                      STCClustering(n_clusters=20, random_state=0))
labels = model.fit_predict(texts)
stc = model[-1]

X = model[0].transform(texts)
kmeans = KMeans(20, n_init=10, random_state=0).fit_predict(X)

scores = {
    "k-means": evaluate(y, kmeans),
    "STC before self-training": evaluate(y, stc.init_labels_),
    "STC": evaluate(y, labels),
}
for name, s in scores.items():
    print(f"{name:<26} ACC {s['ACC']:.3f}  NMI {s['NMI']:.3f}  ARI {s['ARI']:.3f}")

# %%
# Clusters on new titles:
print(model.predict(["How to rewrite URLs with .htaccess", "Haskell monad transformer"]))

# %%
# The scores side by side.
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
width = 0.27
for i, (name, s) in enumerate(scores.items()):
    ax.bar(np.arange(3) + (i - 1) * width, [100 * s[m] for m in ("ACC", "NMI", "ARI")],
           width, label=name)
ax.set_xticks(range(3), ["ACC", "NMI", "ARI"])
ax.set_ylabel("score (%)")
ax.set_title("StackOverflow (4,000 titles), TF-IDF + SVD(100), seed 0")
ax.legend(loc="lower right")
plt.show()
