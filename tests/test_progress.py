"""Progress bars (skstc._progress) of a fit at verbose >= 1."""

import pytest
from _testing import small_params

from skstc import STCClustering
from skstc._progress import _NoBar, progress_bar


def test_estimator_shows_bars_at_verbose_1_only(blobs, capsys, monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    X, _ = blobs
    STCClustering(4, **small_params(verbose=1, pretrain_epochs=3, max_iter=20)).fit(X)
    err = capsys.readouterr().err
    assert "pretraining" in err and "epoch" in err
    assert "self-training" in err and "step" in err
    STCClustering(4, **small_params(verbose=0, pretrain_epochs=3, max_iter=20)).fit(X)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    STCClustering(4, **small_params(verbose=1, pretrain_epochs=3, max_iter=20)).fit(X)
    assert "pretraining" not in capsys.readouterr().err


def test_without_tqdm_the_bar_does_nothing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    bar = progress_bar(10, "x", enabled=True)
    assert isinstance(bar, _NoBar)
    bar.update()
    bar.set_postfix_str("y")
    bar.close()
    assert isinstance(progress_bar(10, "x", enabled=False), _NoBar)
