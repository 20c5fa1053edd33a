"""
Clustering your own CSV with the ``skstc`` command
==================================================

``skstc cluster`` reads a text file (one text per line) or a CSV column, writes
``index,cluster,cluster_name,confidence,text`` and prints each cluster's size, name and
top terms;
``--report`` adds an HTML page (sizes, top terms, representative texts, a map of the
clusters). Here a CSV of 2,000 Biomedical titles stands in for your own file.
"""

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skstc.datasets import load_biomedical

texts, _ = load_biomedical(return_X_y=True)
idx = np.random.RandomState(0).choice(len(texts), 2000, replace=False)
folder = Path(tempfile.mkdtemp())
with (folder / "titles.csv").open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["id", "title"])
    writer.writerows([i, texts[i]] for i in idx)

# %%
# The command, as you would type it in a shell (``python -m skstc`` is the same as ``skstc``);
# ``--max-iter 500`` (a third of the default self-training) for a quicker first look:
cmd = [sys.executable, "-m", "skstc", "cluster", str(folder / "titles.csv"), "--column",
       "title", "--n-clusters", "20", "-o", str(folder / "labels.csv"), "--report",
       str(folder / "report.html"), "--max-iter", "500", "--quiet", "--no-cache"]
print(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)

# %%
# The labels file, and the cluster sizes.
labels = pd.read_csv(folder / "labels.csv")
print(labels.head())
sizes = labels["cluster"].value_counts().sort_index()
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
ax.bar(sizes.index, sizes.values)
ax.set(xlabel="cluster", ylabel="texts", title="cluster sizes, 2,000 Biomedical titles")
plt.show()

# %%
# The report opens with a map of the clusters and lists, for each cluster, its top terms and
# its most confident titles; its first lines:
print((folder / "report.html").read_text(encoding="utf-8")[:200], "...")
