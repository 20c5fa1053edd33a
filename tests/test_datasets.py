"""The real loaders against the benchmark files in SKSTC_DATA (../shared/data in CI)."""

import gzip
import json
import shutil

import numpy as np
import pytest

from skstc import datasets
from skstc.datasets import DATASETS, get_data_home, load_dataset, load_googlenews

EXPECTED = {
    # name: (n_samples, n_classes, smallest class, largest class)
    "stackoverflow": (20_000, 20, 1000, 1000),
    "searchsnippets": (12_340, 8, 370, 2660),
    "biomedical": (20_000, 20, 1000, 1000),
    "tweet": (2_472, 89, 1, 249),
    "googlenews-TS": (11_109, 152, 3, 430),
    "googlenews-T": (11_109, 152, 3, 430),
    "googlenews-S": (11_109, 152, 3, 430),
    "agnews": (8_000, 4, 2000, 2000),
    "clinc150": (22_500, 150, 150, 150),
    "hwu64": (11_036, 64, 38, 194),
    "snips": (14_484, 7, 2042, 2100),
    "stackexchange": (19_536, 165, 39, 120),
}


@pytest.fixture(scope="module")
def data_home():
    home = get_data_home()
    if not (home / "stackoverflow").is_dir():
        pytest.skip(f"benchmark data not found in {home}; set SKSTC_DATA")
    return home


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_and_class_sizes(data_home, name):
    n, k, smallest, largest = EXPECTED[name]
    bunch = load_dataset(name)
    assert len(bunch.data) == n and bunch.target.shape == (n,)
    assert all(isinstance(t, str) for t in bunch.data)
    sizes = np.bincount(bunch.target)
    assert sizes.size == k == len(bunch.target_names) == len(bunch.original_labels)
    assert (sizes.min(), sizes.max()) == (smallest, largest)
    assert name.split("-")[0] in bunch.DESCR


def test_label_names_and_alignment(data_home):
    so = datasets.load_stackoverflow()
    assert so.target_names[0] == "wordpress" and so.target_names[-1] == "magento"
    wp = [t for t, c in zip(so.data, so.target) if c == 0]
    assert sum("wordpress" in t.lower() for t in wp) > 800
    ss = datasets.load_searchsnippets()
    assert not ss.data[0].startswith("\ufeff")
    assert list(ss.target_names).index("sports") == 7
    clinc = datasets.load_clinc150()  # names from the folder's label_names.txt
    assert clinc.target_names[0] == "accept_reservations" and clinc.target_names[-1] == "yes"
    assert clinc.data[0].startswith("what expression would i use to say i love you")


def test_blank_documents_are_kept(data_home):
    titles, y = load_googlenews("T", return_X_y=True)
    assert titles[3950] == "" and len(titles) == len(y) == 11_109
    snippets = load_googlenews("S")
    assert snippets.data[6831] == ""
    with pytest.raises(ValueError, match="part must be"):
        load_googlenews("X")


def test_tweet_labels_are_remapped(data_home):
    bunch = datasets.load_tweet()
    assert bunch.target.min() == 0 and bunch.target.max() == 88
    assert bunch.original_labels.max() == 110


def test_missing_files_give_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=True") as info:
        load_dataset("stackoverflow", data_home=tmp_path)
    assert str(tmp_path / "stackoverflow" / "texts.txt") in str(info.value)


def test_unknown_name():
    with pytest.raises(ValueError, match="Unknown data set 'nope'"):
        load_dataset("nope")


def test_data_home_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("SKSTC_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("SKSTC_DATA")
    assert get_data_home().name == "skstc_data"


def _copy(data_home, tmp_path, name):
    src = data_home / DATASETS[name].folder
    dst = tmp_path / DATASETS[name].folder
    shutil.copytree(src, dst)
    return dst


def test_truncated_file_is_detected(data_home, tmp_path):
    dst = _copy(data_home, tmp_path, "stackoverflow")
    lines = (dst / "labels.txt").read_text().split("\n")
    (dst / "labels.txt").write_text("\n".join(lines[:-10]))
    with pytest.raises(OSError, match="corrupt"):
        load_dataset("stackoverflow", data_home=tmp_path)


def test_edited_gzip_text_is_detected(data_home, tmp_path):
    dst = _copy(data_home, tmp_path, "agnews")
    text = gzip.decompress((dst / "texts.txt.gz").read_bytes()).replace(b"sports", b"sp0rts", 1)
    (dst / "texts.txt.gz").write_bytes(gzip.compress(text))
    with pytest.raises(OSError, match="corrupt"):
        load_dataset("agnews", data_home=tmp_path)
    (dst / "texts.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(OSError, match="not a valid gzip"):
        load_dataset("agnews", data_home=tmp_path)


def test_uncompressed_copy_of_gzip_dataset_loads(data_home, tmp_path):
    dst = _copy(data_home, tmp_path, "agnews")
    (dst / "texts.txt").write_bytes(gzip.decompress((dst / "texts.txt.gz").read_bytes()))
    (dst / "texts.txt.gz").unlink()
    assert len(load_dataset("agnews", data_home=tmp_path).data) == 8000


# ------------------------------------------------------------------ download path (offline)
def _fake_remote(data_home, monkeypatch, corrupt=False):
    """Serve the sources' formats from the local copies instead of the network."""
    served = {}
    for name, spec in DATASETS.items():
        if spec.source == "local":  # nothing to serve: no download
            continue
        texts = (data_home / spec.folder / "texts.txt").read_bytes() if (
            data_home / spec.folder / "texts.txt"
        ).is_file() else gzip.decompress((data_home / spec.folder / "texts.txt.gz").read_bytes())
        labels = (data_home / spec.folder / "labels.txt").read_bytes()
        if spec.source == "stc2":
            served[spec.urls[0]] = b"\xef\xbb\xbf" + texts if name == "searchsnippets" else texts
            served[spec.urls[1]] = labels
        else:
            pairs = zip(texts.decode().split("\n")[:-1], labels.decode().split())
            if spec.source == "clinc":  # data_full.json: [text, intent] rows by split
                names = dict(line.split("\t") for line in (
                    data_home / spec.folder / "label_names.txt").read_text().splitlines())
                rows = [[t, names[c]] for t, c in pairs]
                body = json.dumps({"train": rows[:15_000], "val": rows[15_000:18_000],
                                   "test": rows[18_000:], "oos_train": [["hi", "oos"]]})
            elif spec.source == "gsdmm":
                body = "".join(json.dumps({"text": t, "cluster": int(c)}) + "\n" for t, c in pairs)
            else:
                body = "".join(f"{c}\t{t}\n" for t, c in pairs)
            served[spec.urls[0]] = body.encode()
    calls = []

    def fetch(url):
        calls.append(url)
        body = served[url]
        return body[: len(body) // 2] if corrupt else body

    monkeypatch.setattr(datasets, "_fetch", fetch)
    return calls


@pytest.mark.parametrize("name", ["searchsnippets", "tweet", "agnews", "clinc150"])
def test_download_if_missing_converts_and_verifies(data_home, tmp_path, monkeypatch, name):
    calls = _fake_remote(data_home, monkeypatch)
    fresh = load_dataset(name, data_home=tmp_path, download_if_missing=True)
    assert calls == list(DATASETS[name].urls)
    reference = load_dataset(name)
    assert fresh.data == reference.data
    np.testing.assert_array_equal(fresh.target, reference.target)
    np.testing.assert_array_equal(fresh.target_names, reference.target_names)
    calls.clear()
    load_dataset(name, data_home=tmp_path, download_if_missing=True)
    assert calls == []  # cached


@pytest.mark.parametrize("name", ["hwu64", "snips", "stackexchange"])
def test_local_only_sets_say_why_they_cannot_be_downloaded(data_home, tmp_path, name):
    with pytest.raises(FileNotFoundError, match="assembled from several source files"):
        load_dataset(name, data_home=tmp_path, download_if_missing=True)
    names = load_dataset(name).target_names  # from the folder's label_names.txt
    assert len(names) == EXPECTED[name][1] and all(not n.isdigit() for n in names)


def test_corrupt_download_is_rejected_and_not_written(data_home, tmp_path, monkeypatch):
    _fake_remote(data_home, monkeypatch, corrupt=True)
    with pytest.raises(OSError, match="corrupt"):
        load_dataset("stackoverflow", data_home=tmp_path, download_if_missing=True)
    assert not (tmp_path / "stackoverflow" / "texts.txt").exists()
