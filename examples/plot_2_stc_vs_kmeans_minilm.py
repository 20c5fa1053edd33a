"""
STC vs k-means on MiniLM embeddings, with the latent space before and after
===========================================================================

Sentence embeddings of SearchSnippets (all-MiniLM-L6-v2, needs ``skstc[text]``), clustered
by k-means and by STC. The t-SNE maps show the autoencoder's latent space before
self-training (coloured by the initial k-means clusters) and after it (coloured by STC's
clusters). A random 1,500 of the 12,340 snippets keep this page quick to build (about two
minutes on 2 CPU cores).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans

from skstc import STCClustering
from skstc.datasets import load_searchsnippets
from skstc.embeddings import SentenceEmbedding
from skstc.metrics import evaluate
from skstc.plotting import plot_embedding

data = load_searchsnippets()
idx = np.random.RandomState(0).choice(len(data.data), 1500, replace=False)
texts, y = [data.data[i] for i in idx], data.target[idx]
X = SentenceEmbedding(batch_size=128).fit_transform(texts)
k = len(data.target_names)

print("k-means", evaluate(y, KMeans(k, n_init=10, random_state=0).fit_predict(X)))

# %%
# ``max_iter=0`` stops before self-training: its latent space is the "before" picture.
before = STCClustering(k, max_iter=0, random_state=0).fit(X)
after = STCClustering(k, random_state=0).fit(X)
print("STC before self-training", evaluate(y, before.labels_))
print("STC", evaluate(y, after.labels_))

fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
plot_embedding(before, X, ax=axes[0])
axes[0].set_title("before self-training (initial k-means clusters)")
plot_embedding(after, X, ax=axes[1])
axes[1].set_title("after self-training (STC clusters)")
plt.show()
