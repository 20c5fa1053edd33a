"""
Choosing the number of clusters
===============================

When the number of topics is unknown, :func:`~skstc.select_n_clusters` recommends one
from the texts alone: it pretrains one STC model, clusters its latent codes with every
candidate number of clusters, and scores each partition by its silhouette in the input.
It recommends the largest k within the noise of the best score and reports the range of
k whose scores are within a fifth of the best. Here on 2,000 StackOverflow titles (MiniLM
embeddings; 20 tags, which the method does not see), with a small network so that the
page builds in about a minute. The tags are used only to score the result: NMI of STC
fitted with the recommended k and with the true k.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone

from skstc import STCClustering, select_n_clusters
from skstc.datasets import load_stackoverflow
from skstc.embeddings import make_embedding
from skstc.metrics import evaluate

texts, y = load_stackoverflow(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 2000, replace=False)
texts, y = [texts[i] for i in idx], y[idx]
X = make_embedding("minilm").fit_transform(texts)

small = STCClustering(network={"hidden_dims": (256, 256, 512), "decoder_dims": (256,)},
                      max_iter=200, self_train={"update_interval": 50})
selection = select_n_clusters(X, [5, 10, 15, 20, 25, 30, 40], estimator=small,
                              random_state=0)
print(selection.to_frame().to_string(index=False))
print(selection.summary())

# %%
# The recommendation against the truth, scored with the tags (NMI is fair when the
# numbers of clusters differ).
for k in sorted({selection.n_clusters, 20}):
    stc = clone(small).set_params(n_clusters=k, random_state=0).fit(X)
    scores = evaluate(y, stc.labels_)
    print(f"k={k}: NMI {100 * scores['NMI']:.1f}, ARI {100 * scores['ARI']:.1f}")

ax = selection.plot()
ax.axvline(20, color="grey", ls="--", label="number of tags (20)")
ax.legend(loc="lower center", fontsize="small")
ax.set_title("StackOverflow (2,000 titles), MiniLM")
plt.show()
