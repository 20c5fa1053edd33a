"""The skstc command line."""

import csv
import subprocess
import sys

import pytest
from _testing import topic_corpus

from skstc import STCClustering
from skstc.cli import main


@pytest.fixture
def texts_file(tmp_path):
    texts, _ = topic_corpus(n_per_topic=30)
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


FAST = ["--max-iter", "30", "--pretrain-epochs", "30", "--update-interval", "10",
        "--batch-size", "32", "--device", "cpu"]


def test_cluster_text_file(texts_file, tmp_path, capsys):
    out = tmp_path / "labels.csv"
    code = main(["cluster", str(texts_file), "--n-clusters", "3", "-o", str(out),
                 "--no-cache", "--quiet", *FAST])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 90 and set(rows[0]) == {"index", "cluster", "confidence", "text"}
    assert {r["cluster"] for r in rows} <= {"0", "1", "2"}
    captured = capsys.readouterr()
    assert "top terms" in captured.out
    assert "python" in captured.out and "oracle" in captured.out
    assert captured.err == ""


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


def test_run_smoke_on_real_data(tmp_path, capsys):
    """`skstc run` end to end on the real tweet data (2,472 texts), one seed, short fit."""
    from skstc.datasets import get_data_home

    if not (get_data_home() / "tweet").is_dir():
        pytest.skip("benchmark data not available")
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


def test_neighbor_options_reach_the_estimator():
    from skstc.cli import _parser, _stc_params

    args = _parser().parse_args(["run", "--dataset", "tweet", "--neighbor-weight", "0",
                                 "--perplexity", "10", "--n-neighbors", "0",
                                 "--consistency-weight", "0.5"])
    stc = STCClustering(3, **_stc_params(args))
    assert (stc.neighbor_weight, stc.perplexity) == (0.0, 10.0)
    assert (stc.n_neighbors, stc.consistency_weight) == (0, 0.5)
    default = STCClustering(3, **_stc_params(_parser().parse_args(["run", "--dataset", "tweet"])))
    for name in ("neighbor_weight", "n_neighbors", "consistency_weight"):
        assert getattr(default, name) == getattr(STCClustering(), name)


def test_estimator_validates_the_options(capsys):
    code = main(["run", "--dataset", "tweet", "--max-iter", "-1", "--no-cache"])
    assert code == 2
    err = capsys.readouterr().err
    assert "skstc: error: The 'max_iter' parameter of STCClustering" in err


def test_run_compares_peers(tmp_path, capsys):
    code = main(["run", "--dataset", "tweet", "--embedding", "tfidf", "--methods", "k-means",
                 "diffusion+k-means", "--cache-dir", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "diffusion+k-means" in out and "STC" not in out
