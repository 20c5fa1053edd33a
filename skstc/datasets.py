"""Loaders for the standard short-text clustering benchmarks.

Files are looked up in a *data home*: the ``data_home`` argument, else the
``SKSTC_DATA`` environment variable, else ``~/skstc_data``. Each data set lives in
its own folder there (``stackoverflow/texts.txt`` and ``stackoverflow/labels.txt``,
texts optionally gzipped as ``texts.txt.gz``): one document per line, blank lines
included, and one integer label per line. Every file is checked against a SHA-256
checksum of its (decompressed) content before use. When the files are missing and
``download_if_missing=True``, they are fetched from the public repositories listed
in :data:`SOURCES`, converted to that layout and checked.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "get_data_home",
    "load_dataset",
    "load_stackoverflow",
    "load_searchsnippets",
    "load_biomedical",
    "load_tweet",
    "load_googlenews",
    "load_agnews",
    "load_clinc150",
    "DATASETS",
    "SOURCES",
]

_STC2 = "https://raw.githubusercontent.com/jacoxu/STC2/34a28c5a8cf2d6e1db300d32f271f6522db3bde5"
_GSDMM = "https://raw.githubusercontent.com/jackyin12/GSDMM/1b344d9de28faee43ec0df0c3cf7ea57737fe14e"
_VAG = "https://raw.githubusercontent.com/shaoyijia/VAG/a8a2161af3ed2c512e57d04ba569d2c9ffa3ede0"
_RAKIB = (
    "https://raw.githubusercontent.com/rashadulrakib/short-text-clustering-enhancement/"
    "f363b66e6fd51f9dd1db679d2a9ce55538ab9868"
)


@dataclass(frozen=True)
class _Spec:
    folder: str
    texts_sha256: str
    labels_sha256: str
    n_samples: int
    n_classes: int
    source: str  # format of the public source: "stc2", "gsdmm", "tsv", "clinc" or "local"
    urls: tuple[str, ...]
    label_names: dict[int, str] = field(default_factory=dict)
    description: str = ""


def _names(*names: str) -> dict[int, str]:
    return {i + 1: n for i, n in enumerate(names)}


#: Every data set known to the loaders, by name.
DATASETS: dict[str, _Spec] = {
    "stackoverflow": _Spec(
        "stackoverflow",
        "56fdb3932c6a2e35c1943b8a3d3c1cf51901fc1139e51b1587091898ffb22e86",
        "ac6b52afbf696611680f8ea944be682bcdf1979b62fde2b5fa2a9dcc6ab8d7d3",
        20_000, 20, "stc2",
        (f"{_STC2}/dataset/StackOverflow.txt", f"{_STC2}/dataset/StackOverflow_gnd.txt"),
        _names("wordpress", "oracle", "svn", "apache", "excel", "matlab", "visual-studio",
               "cocoa", "osx", "bash", "spring", "hibernate", "scala", "sharepoint", "ajax",
               "qt", "drupal", "linq", "haskell", "magento"),
        "20,000 StackOverflow question titles in 20 tags, 1,000 each (Xu et al., 2015).",
    ),
    "searchsnippets": _Spec(
        "searchsnippets",
        "11f59c36fad57b573fca4b9c4737eb373b265cf940ea8db6e359d6b55537c9a6",
        "03c0c750b699c29fb2c13cfbf62fa5e96a05694da9d5a9bd7fc4367cdd9735c6",
        12_340, 8, "stc2",
        (f"{_STC2}/dataset/SearchSnippets.txt", f"{_STC2}/dataset/SearchSnippets_gnd.txt"),
        _names("business", "computers", "culture-arts-entertainment", "education-science",
               "engineering", "health", "politics-society", "sports"),
        "12,340 web search snippets in 8 domains (Phan et al., 2008).",
    ),
    "biomedical": _Spec(
        "biomedical",
        "5824b74b2064a6b2940b15ab30bab8abe1bd42aa1ec4089e62a0ba28efa2ba87",
        "3e3d2b77aefc232661bb5b1723f123f4b23cf654c777a4a8b6d3c1ef752f836f",
        20_000, 20, "stc2",
        (f"{_STC2}/dataset/Biomedical.txt", f"{_STC2}/dataset/Biomedical_gnd.txt"),
        _names("aging", "cats", "chemistry", "erythrocytes", "glucose", "insulin", "lung",
               "lymphocytes", "mathematics", "mutation", "myocardium", "norepinephrine",
               "potassium", "prognosis", "risk", "skin", "sodium", "spleen", "swine",
               "temperature"),
        "20,000 PubMed paper titles in 20 MeSH topics, 1,000 each (Xu et al., 2017).",
    ),
    "tweet": _Spec(
        "tweet",
        "211216e954ed0744a138410e5f1049ed5accd7aac44aa0c8c4a6cd240325d9a6",
        "d36ed0d4e142067c1904455b941cb958b8e439c691972579e7940d0cf8df21ea",
        2_472, 89, "gsdmm", (f"{_GSDMM}/data/Tweet",), {},
        "2,472 tweets of 89 TREC Microblog queries, preprocessed (Yin & Wang, 2014).",
    ),
    "googlenews-TS": _Spec(
        "googlenews/TS",
        "6737a30c58a3216a703a71771300e747a4796ea37de4c1960aa65a6aafe11a1d",
        "e716446827459980f492c3a4d27b4dacca56a139d6e0984a32c92a95ed8a2d7f",
        11_109, 152, "gsdmm", (f"{_GSDMM}/data/TS",), {},
        "11,109 Google News titles + snippets in 152 stories (Yin & Wang, 2014).",
    ),
    "googlenews-T": _Spec(
        "googlenews/T",
        "38eedbe759b3ccbf04dfe2df9e1bcf3c58751aa5e57d0c6b9fe09ebfbb4b8e3c",
        "e716446827459980f492c3a4d27b4dacca56a139d6e0984a32c92a95ed8a2d7f",
        11_109, 152, "gsdmm", (f"{_GSDMM}/data/T",), {},
        "11,109 Google News titles in 152 stories; line 3,951 is empty (Yin & Wang, 2014).",
    ),
    "googlenews-S": _Spec(
        "googlenews/S",
        "080fbabb429950c32e8ba8fb7db4eecf284ee6bd9070d3b10c12694d8c01a8db",
        "e716446827459980f492c3a4d27b4dacca56a139d6e0984a32c92a95ed8a2d7f",
        11_109, 152, "gsdmm", (f"{_GSDMM}/data/S",), {},
        "11,109 Google News snippets in 152 stories; line 6,832 is empty (Yin & Wang, 2014).",
    ),
    "agnews": _Spec(
        "agnews",
        "d33159715e2b6c96d466095245cc50689fcba95262aac8e077b06be71b9a5393",
        "3859e759346d2c818a4a17915d7b64ce6666d19fcc5b278483ce31f002631203",
        8_000, 4, "tsv", (f"{_RAKIB}/data/agnewsdataraw-8000",),
        _names("World", "Sports", "Business", "Sci/Tech"),
        "8,000 AG News title + description texts in 4 classes (Rakib et al., 2020).",
    ),
    "clinc150": _Spec(
        "clinc150",
        "259d244d8fde8169c5c7d87fb7dd63a7edd167f6ca7a5ba18086b559abd622c6",
        "8d9bdd028482970b1b44424f3edb81a951d2e3bd3bc52f315f9a6d5f51556370",
        22_500, 150, "clinc", (f"{_VAG}/data/clinc150/data_full.json",), {},
        "22,500 in-scope requests to a voice assistant in 150 intents, 150 each "
        "(CLINC150, Larson et al., 2019).",
    ),
    # Local only: assembled from several files of their sources (see the data README);
    # download_if_missing cannot rebuild them.
    "hwu64": _Spec(
        "hwu64",
        "fd13137986e2e3a7d830042e2bb8dd4bf0f279f74217d36ee3ee9aa415b02906",
        "d206569931c8d43de4c5098ac328086a7797bec78457dd98338848fa899204c8",
        11_036, 64, "local", (), {},
        "11,036 home-assistant requests in 64 intents, 38 to 194 each (HWU64, Liu et al., "
        "2019).",
    ),
    "snips": _Spec(
        "snips",
        "cebdce3ed533a4e46fc4c17354e1cd6edcdfcb236ec0704512ec3886c81c16ab",
        "6a8f3ebb4c94f9daf1013d9745c64266fe1948f72aa0f2458df7362162b1ec84",
        14_484, 7, "local", (), {},
        "14,484 voice-assistant requests in 7 intents (SNIPS, Coucke et al., 2018).",
    ),
    "stackexchange": _Spec(
        "stackexchange",
        "f0d04aa1db3a1dbc849808c18811eec6d101378986cb7c997969883bf184b205",
        "b853cbf201ad8d0431a1803a2599d2bec76c230dcf5ec153f8f469a93c1a1dda",
        19_536, 165, "local", (), {},
        "19,536 question titles of 165 StackExchange sites, 39 to 120 each (TWEAC, Geigle "
        "et al., 2021).",
    ),
}

#: The families of short texts the benchmarks balance over (a default is chosen on the
#: mean over families, so that no family counts more for having more sets in it).
FAMILIES: dict[str, tuple[str, ...]] = {
    "keyword topics": ("stackoverflow", "biomedical"),
    "snippets and news": ("searchsnippets", "agnews", "googlenews-TS", "googlenews-T",
                          "googlenews-S"),
    "tweets": ("tweet",),
    "intents": ("clinc150", "hwu64", "snips"),
    "site titles": ("stackexchange",),
}

#: Public source of each data set (what ``download_if_missing`` fetches).
SOURCES: dict[str, tuple[str, ...]] = {name: spec.urls for name, spec in DATASETS.items()}


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Folder holding the data sets: ``data_home``, else ``$SKSTC_DATA``, else ``~/skstc_data``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder; wins over the environment.

    Returns
    -------
    path : pathlib.Path
        The folder (not created).

    Examples
    --------
    >>> from skstc.datasets import get_data_home
    >>> str(get_data_home("/tmp/mydata"))
    '/tmp/mydata'
    """
    if data_home is None:
        data_home = os.environ.get("SKSTC_DATA") or Path.home() / "skstc_data"
    return Path(data_home).expanduser()


def _read_bytes(folder: Path, stem: str) -> bytes | None:
    plain, gz = folder / stem, folder / f"{stem}.gz"
    if plain.is_file():
        return plain.read_bytes()
    if gz.is_file():
        try:
            return gzip.decompress(gz.read_bytes())
        except (OSError, EOFError) as exc:
            raise OSError(f"{gz} is not a valid gzip file ({exc}); delete it and reload.") from None
    return None


def _check(content: bytes, expected: str, path: Path) -> None:
    digest = hashlib.sha256(content).hexdigest()
    if digest != expected:
        raise OSError(
            f"{path} is corrupt or of another version: SHA-256 {digest[:12]}... where "
            f"{expected[:12]}... was expected. Delete the folder {path.parent} and load it again "
            "(with download_if_missing=True) or copy the original files there."
        )


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URLs)
        return response.read()


def _clinc_pairs(raw: bytes) -> tuple[list[tuple[str, str]], list[str]]:
    """(text, label id) of the in-scope train, val and test queries of CLINC150's
    ``data_full.json``, ids 1..150 in alphabetical order of the intents; and the intents."""
    splits = json.loads(raw)
    rows = [row for split in ("train", "val", "test") for row in splits[split]]
    intents = sorted({intent for _, intent in rows})
    ids = {intent: str(i + 1) for i, intent in enumerate(intents)}
    return [(text, ids[intent]) for text, intent in rows], intents


def _line_pairs(source: str, raw: bytes) -> list[tuple[str, str]]:
    """(text, label) of each line of a ``"gsdmm"`` (JSON lines) or ``"tsv"``
    (label<TAB>text) source."""
    lines = raw.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if source == "gsdmm":
        rows = [json.loads(line) for line in lines]
        return [(r["text"], str(r["cluster"])) for r in rows]
    return [(t, lab) for lab, t in (line.split("\t", 1) for line in lines)]


def _download(spec: _Spec, folder: Path) -> None:
    """Fetch the public source files and write ``texts.txt`` / ``labels.txt`` (and
    ``label_names.txt`` where the source names its classes)."""
    if spec.source == "local":
        raise FileNotFoundError(
            f"Data set {spec.folder!r} has no single public file to fetch: it was assembled "
            f"from several source files (see the README of the benchmark data). Copy its "
            f"folder into {folder.parent}.")
    raw = [_fetch(url) for url in spec.urls]
    names = None
    if spec.source == "stc2":
        texts = raw[0].removeprefix(b"\xef\xbb\xbf")
        labels = raw[1]
    else:
        if spec.source == "clinc":
            pairs, names = _clinc_pairs(raw[0])
        else:
            pairs = _line_pairs(spec.source, raw[0])
        texts = "".join(t + "\n" for t, _ in pairs).encode("utf-8")
        labels = "".join(lab + "\n" for _, lab in pairs).encode("utf-8")
    _check(texts, spec.texts_sha256, folder / "texts.txt")
    _check(labels, spec.labels_sha256, folder / "labels.txt")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "texts.txt").write_bytes(texts)
    (folder / "labels.txt").write_bytes(labels)
    if names is not None:
        table = "".join(f"{i + 1}\t{name}\n" for i, name in enumerate(names))
        (folder / "label_names.txt").write_text(table, encoding="utf-8")


def _label_names(spec: _Spec, folder: Path) -> dict[int, str]:
    """Class names by original id: the spec's, else those of ``label_names.txt``
    (``id<TAB>name`` lines) when the folder has one."""
    path = folder / "label_names.txt"
    if spec.label_names or not path.is_file():
        return spec.label_names
    pairs = (line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {int(i): name for i, name in pairs}


def load_dataset(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = False,
    return_X_y: bool = False,
):
    """Load a short-text clustering benchmark by name.

    Parameters
    ----------
    name : str
        One of ``"stackoverflow"``, ``"searchsnippets"``, ``"biomedical"``, ``"tweet"``,
        ``"googlenews-TS"``, ``"googlenews-T"``, ``"googlenews-S"``, ``"agnews"``,
        ``"clinc150"``, ``"hwu64"``, ``"snips"``, ``"stackexchange"`` (``"googlenews"``
        means ``"googlenews-TS"``; the last three have no download).
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    download_if_missing : bool, default=False
        Fetch the files from their public source (:data:`SOURCES`) when absent.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (list of str, blank documents kept), ``target`` (int array with
        values ``0..K-1``), ``target_names`` (one per class), ``original_labels``
        (the ids used by the source files), ``DESCR``.
    (data, target) : tuple
        With ``return_X_y=True``.

    Examples
    --------
    >>> from skstc.datasets import load_dataset
    >>> texts, y = load_dataset("searchsnippets", return_X_y=True)  # doctest: +SKIP
    >>> len(texts), y.max() + 1  # doctest: +SKIP
    (12340, 8)
    """
    key = "googlenews-TS" if name == "googlenews" else name
    if key not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {sorted(DATASETS)}.")
    spec = DATASETS[key]
    home = get_data_home(data_home)
    folder = home / spec.folder
    texts_bytes = _read_bytes(folder, "texts.txt")
    labels_bytes = _read_bytes(folder, "labels.txt")
    if texts_bytes is None or labels_bytes is None:
        if not download_if_missing:
            raise FileNotFoundError(
                f"Data set {key!r} not found: looked for {folder / 'texts.txt'} (or .gz) and "
                f"{folder / 'labels.txt'} in the data home {home} (set by data_home=, else the "
                "SKSTC_DATA environment variable, else ~/skstc_data). Pass "
                "download_if_missing=True to fetch it from its public source, or copy the "
                "files there."
            )
        _download(spec, folder)
        texts_bytes = _read_bytes(folder, "texts.txt")
        labels_bytes = _read_bytes(folder, "labels.txt")
    _check(texts_bytes, spec.texts_sha256, folder / "texts.txt")
    _check(labels_bytes, spec.labels_sha256, folder / "labels.txt")

    # split("\n") keeps blank documents; the files end with a newline
    texts = texts_bytes.decode("utf-8").split("\n")[:-1]
    original = np.array(labels_bytes.decode("ascii").split(), dtype=np.int64)
    if len(texts) != len(original):  # guarded by the checksums; kept as a last line of defence
        raise OSError(f"{folder}: {len(texts)} texts but {len(original)} labels.")
    ids, target = np.unique(original, return_inverse=True)
    label_names = _label_names(spec, folder)
    target_names = np.array([label_names.get(int(i), str(i)) for i in ids], dtype=object)
    if return_X_y:
        return texts, target
    return Bunch(
        data=texts,
        target=target,
        target_names=target_names,
        original_labels=ids,
        DESCR=f"{key}: {spec.description} Files: {folder}.",
    )


def _loader(name: str, doc: str):
    def load(*, data_home=None, download_if_missing=False, return_X_y=False):
        return load_dataset(
            name,
            data_home=data_home,
            download_if_missing=download_if_missing,
            return_X_y=return_X_y,
        )

    load.__name__ = f"load_{name}"
    load.__qualname__ = load.__name__
    load.__doc__ = f"""Load {doc}

    Parameters and return value as in :func:`load_dataset`.

    Examples
    --------
    >>> from skstc.datasets import load_{name}
    >>> bunch = load_{name}()  # doctest: +SKIP
    """
    return load


load_stackoverflow = _loader("stackoverflow", DATASETS["stackoverflow"].description)
load_searchsnippets = _loader("searchsnippets", DATASETS["searchsnippets"].description)
load_biomedical = _loader("biomedical", DATASETS["biomedical"].description)
load_tweet = _loader("tweet", DATASETS["tweet"].description)
load_agnews = _loader("agnews", DATASETS["agnews"].description)
load_clinc150 = _loader("clinc150", DATASETS["clinc150"].description)


def load_googlenews(
    part: str = "TS",
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = False,
    return_X_y: bool = False,
):
    """Load GoogleNews: titles + snippets (``"TS"``), titles (``"T"``) or snippets (``"S"``).

    11,109 news texts in 152 stories (Yin & Wang, 2014). Parameters and return value
    as in :func:`load_dataset`.

    Examples
    --------
    >>> from skstc.datasets import load_googlenews
    >>> titles = load_googlenews("T")  # doctest: +SKIP
    """
    if part not in ("TS", "T", "S"):
        raise ValueError(f"part must be 'TS', 'T' or 'S', got {part!r}.")
    return load_dataset(
        f"googlenews-{part}",
        data_home=data_home,
        download_if_missing=download_if_missing,
        return_X_y=return_X_y,
    )
