"""
Hyper-parameter search with the unsupervised ``score``
======================================================

``STCClustering.score`` is the silhouette coefficient of the predicted clusters in the
input space, so ``GridSearchCV`` needs no labels and no ``scoring``. Here it compares
the graph (``n_neighbors``) and the kernel's ``alpha`` (a setting of ``network``) on 2,000
SearchSnippets texts (TF-IDF + SVD), 2-fold, 2 jobs.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV

from skstc import STCClustering
from skstc.datasets import load_searchsnippets
from skstc.embeddings import TfidfSVDEmbedding

texts, y = load_searchsnippets(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 2000, replace=False)
X = TfidfSVDEmbedding(50, random_state=0).fit_transform([texts[i] for i in idx])

search = GridSearchCV(
    STCClustering(8, max_iter=200, self_train={"update_interval": 50}, random_state=0),
    {"n_neighbors": [0, 10], "network": [{"hidden_dims": (256, 256, 512), "alpha": a}
                                         for a in (0.5, 1.0, 2.0)]},
    cv=2,
    n_jobs=2,
).fit(X)
print("best:", search.best_params_, f"silhouette {search.best_score_:.3f}")

results = pd.DataFrame(search.cv_results_)
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
results["alpha"] = [network["alpha"] for network in results["param_network"]]
for n_neighbors, group in results.groupby("param_n_neighbors"):
    ax.errorbar(group["alpha"], group["mean_test_score"], yerr=group["std_test_score"],
                marker="o", capsize=3, label=f"n_neighbors={n_neighbors}")
ax.set(xlabel="alpha", ylabel="silhouette (held-out fold)", title="GridSearchCV, 2-fold")
ax.legend()
plt.show()
