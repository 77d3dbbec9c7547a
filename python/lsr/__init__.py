"""lsr: learned sparse retrieval (Seismic-layout indexes of SPLADE-style vectors), with the engine
in Swift.

    import lsr
    lsr.build("docs.jsonl.zst", "docs.lsr")
    index = lsr.Index("docs.lsr")
    ids, scores = index.search([{"vitamin": 1.2, "b12": 0.8}], k=10)
    lsr.evaluate({"q1": dict(zip(ids[0], scores[0]))}, "qrels.tsv", metrics=["ndcg@10"])

Every failure raises `lsr.Error` with lsr's one-line message (file, line, field).
"""
import ctypes, json, math, numbers, os, tempfile
from collections.abc import Mapping

import numpy as np

__all__ = ["Error", "Index", "build", "evaluate", "version"]


class Error(Exception):
    """An error lsr reported: its message names the file, line or field at fault."""


def _load():
    path = os.environ.get("LSR_LIBRARY") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "liblsr_c.so")
    if not os.path.exists(path):
        raise ImportError(f"lsr's library is missing at {path}: install the package with `pip install ./python`")
    lib = ctypes.CDLL(path)  # CDLL releases the GIL during every call
    c = ctypes
    signatures = {
        "lsr_free": (None, [c.c_void_p]),
        "lsr_version": (c.c_char_p, []),
        "lsr_index_open": (c.c_void_p, [c.c_char_p, c.POINTER(c.c_void_p)]),
        "lsr_index_close": (None, [c.c_void_p]),
        "lsr_index_document_count": (c.c_int64, [c.c_void_p]),
        "lsr_index_search_csr": (c.c_int32, [c.c_void_p, c.c_void_p, c.c_int64, c.c_int64, c.c_void_p, c.c_void_p, c.c_void_p, c.c_int64,
                                             c.c_int64, c.c_int64, c.c_float, c.c_int32, c.c_int64, c.c_void_p, c.c_void_p,
                                             c.POINTER(c.c_void_p)]),
        "lsr_index_search_file": (c.c_int32, [c.c_void_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_int64, c.c_int64, c.c_float,
                                              c.c_int32, c.c_int64, c.POINTER(c.c_void_p), c.POINTER(c.c_int64),
                                              c.POINTER(c.c_int64), c.POINTER(c.c_void_p), c.POINTER(c.c_void_p),
                                              c.POINTER(c.c_void_p)]),
        "lsr_index_search_text": (c.c_int32, [c.c_void_p, c.c_void_p, c.c_int64, c.c_int64, c.c_int64, c.c_float, c.c_int32,
                                              c.c_int64, c.c_void_p, c.c_void_p, c.POINTER(c.c_void_p)]),
        "lsr_index_document_ids": (c.c_int32, [c.c_void_p, c.c_void_p, c.c_int64, c.POINTER(c.c_void_p), c.POINTER(c.c_int64),
                                               c.POINTER(c.c_void_p)]),
        "lsr_index_document": (c.c_int32, [c.c_void_p, c.c_char_p, c.POINTER(c.c_void_p), c.POINTER(c.c_int32),
                                           c.POINTER(c.c_void_p)]),
        "lsr_build": (c.c_int32, [c.c_char_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_char_p, c.c_void_p,
                                  c.POINTER(c.c_void_p), c.POINTER(c.c_void_p)]),
        "lsr_evaluate": (c.c_int32, [c.c_char_p, c.c_char_p, c.c_char_p, c.c_int32, c.POINTER(c.c_void_p),
                                     c.POINTER(c.c_void_p)]),
        "lsr_collection_open_shards": (c.c_void_p, [c.c_char_p, c.c_void_p, c.c_int64, c.POINTER(c.c_void_p)]),
        "lsr_index_preload": (c.c_int32, [c.c_void_p, c.POINTER(c.c_int32), c.POINTER(c.c_void_p)]),
        "lsr_index_preset": (c.c_int32, [c.c_void_p, c.c_double, c.c_int64, c.POINTER(c.c_int32), c.POINTER(c.c_int64),
                                         c.POINTER(c.c_float), c.POINTER(c.c_void_p)]),
        "lsr_index_shards": (c.c_int32, [c.c_void_p, c.c_void_p, c.c_int64, c.POINTER(c.c_int64), c.POINTER(c.c_int64),
                                         c.POINTER(c.c_void_p)]),
        "lsr_collection_manifest": (c.c_int32, [c.c_char_p, c.POINTER(c.c_void_p), c.POINTER(c.c_void_p)]),
        "lsr_collection_assemble": (c.c_int32, [c.c_char_p, c.c_char_p, c.c_int64, c.c_int32, c.POINTER(c.c_void_p)]),
        "lsr_build_csr": (c.c_int32, [c.c_void_p, c.c_int64, c.c_int64, c.c_void_p, c.c_void_p, c.c_void_p, c.c_int64, c.c_void_p,
                                      c.c_char_p, c.c_char_p, c.c_void_p, c.POINTER(c.c_void_p), c.POINTER(c.c_void_p)]),
        "lsr_merge_top_k": (c.c_int32, [c.c_int64, c.c_int64, c.c_int64, c.c_void_p, c.c_void_p, c.c_void_p,
                                        c.POINTER(c.c_void_p)]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


_lib = _load()
_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64)
_METHODS = {"approximate": 0, "exact": 1, "brute_force": 2, "bruteforce": 2}


def _take_string(pointer):
    """The library's malloc'd string at `pointer` (a c_void_p), freed."""
    if not pointer.value:
        return None
    try:
        return ctypes.string_at(pointer.value).decode("utf-8")
    finally:
        _lib.lsr_free(pointer)


def _call(function, *arguments):
    """Calls a status-returning function with a trailing error pointer; raises Error on failure."""
    error = ctypes.c_void_p()
    status = function(*arguments, ctypes.byref(error))
    if status is None or status == -1 or (function.restype is ctypes.c_void_p and not status):
        raise Error(_take_string(error) or "lsr failed without a message")
    return status


def _encode(text):
    """A path or string as the library takes it (None stays NULL); NUL cannot be passed."""
    if text is None:
        return None
    encoded = os.fsencode(text) if isinstance(text, (str, os.PathLike)) else str(text).encode("utf-8")
    if b"\0" in encoded:
        raise Error(f"{text!r}: NUL characters cannot be passed to lsr")
    return encoded


def _encode_strings(strings, what="a token"):
    """Tokens, ids or texts as the library takes them (UTF-8), in one pass: they are many."""
    encoded = [s.encode("utf-8") if isinstance(s, str) else str(s).encode("utf-8") for s in strings]
    if b"\0" in b"".join(encoded):
        raise Error(f"{what} holds a NUL character, which cannot be passed to lsr")
    return encoded


def _is_sparse(value):
    try:
        import scipy.sparse
    except ImportError:
        return False
    return scipy.sparse.issparse(value)


def version():
    """The version of the lsr library."""
    return _lib.lsr_version().decode()


def _split(buffer, size):
    """NUL-terminated strings of a malloc'd buffer (c_void_p) of `size` bytes, freed."""
    try:
        raw = ctypes.string_at(buffer.value, size) if size else b""
    finally:
        _lib.lsr_free(buffer)
    return [s.decode("utf-8") for s in raw.split(b"\0")[:-1]]


class Index:
    """An lsr index or sharded collection (`lsr index --shards`, `build(..., shards=N)`),
    memory-mapped (opening takes milliseconds). A collection searches every shard and merges
    their top k; its document positions are the input's order. Safe to search from several
    Python threads at once: the GIL is released while lsr works.

    `shards`: for a collection, the shard numbers to open (a server of part of a collection,
    as `lsr.distributed` runs them): searches then cover those shards only."""

    def __init__(self, path, *, shards=None):
        self._handle = None
        self.path = os.fspath(path)
        if shards is None:
            self._handle = ctypes.c_void_p(_call(_lib.lsr_index_open, _encode(self.path)))
        else:
            numbers = np.ascontiguousarray([int(s) for s in shards], dtype=np.int64)
            self._handle = ctypes.c_void_p(_call(_lib.lsr_collection_open_shards, _encode(self.path), numbers.ctypes.data, numbers.size))

    @property
    def shard_count(self):
        """Shards of the collection (0 for an index)."""
        return self._shards()[0]

    @property
    def shards(self):
        """The numbers of the shards open (all, unless opened with `shards=`); () for an index."""
        return self._shards()[1]

    def preload(self):
        """Maps the whole index (every open shard) into memory before searching, reading what the
        page cache lacks, so that no query of the next batches waits on a page fault or a disk
        read. Returns False where the system cannot or the kernel refused (searches then map
        pages as they go)."""
        mapped = ctypes.c_int32()
        _call(_lib.lsr_index_preload, self._open, ctypes.byref(mapped))
        return bool(mapped.value)

    def _shards(self):
        count, opened = ctypes.c_int64(), ctypes.c_int64()
        _call(_lib.lsr_index_shards, self._open, None, 0, ctypes.byref(count), ctypes.byref(opened))
        numbers = np.zeros(max(1, opened.value), dtype=np.int64)
        _call(_lib.lsr_index_shards, self._open, numbers.ctypes.data, numbers.size, ctypes.byref(count), ctypes.byref(opened))
        return count.value, tuple(int(n) for n in numbers[:opened.value])

    @property
    def _open(self):
        """The library's handle; lsr.Error once the index is closed."""
        if not self._handle:
            raise Error(f"{self.path}: the index is closed")
        return self._handle

    def close(self):
        """Unmaps the index (also done when the object is collected). Do not close an index
        another thread is still searching."""
        if getattr(self, "_handle", None) and _lib is not None:  # _lib is None at interpreter exit
            _lib.lsr_index_close(self._handle)
        self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    def __len__(self):
        return int(_lib.lsr_index_document_count(self._open))

    @staticmethod
    def _settings(k, query_cut, heap_factor, method, threads):
        if isinstance(k, bool) or int(k) != k or not 1 <= k <= 2**31 - 1:
            raise Error(f"k must be an integer in 1 … {2**31 - 1}, got {k!r}")
        if method not in _METHODS:
            raise Error(f"method must be one of {sorted(_METHODS)}, got {method!r}")
        if query_cut is not None and query_cut < 1:
            raise Error(f"query_cut must be ≥ 1, got {query_cut}")
        if heap_factor is not None and not (math.isfinite(heap_factor) and heap_factor > 0):
            raise Error(f"heap_factor must be a finite number > 0, got {heap_factor}")
        if threads is not None and threads < 1:
            raise Error(f"threads must be ≥ 1, got {threads}")
        return (int(k), int(query_cut or 0), float(heap_factor or 0), _METHODS[method], int(threads or 0))

    def preset(self, target_recall, k=10):
        """The search settings `lsr tune` stored for recall@k `target_recall` (the preset of
        the lowest tuned target at or above it), as `search` takes them: a dict with "method"
        ("approximate" or "exact"), "query_cut" and "heap_factor" (None for exact search).
        Raises lsr.Error when the index (or collection) has no presets, they are damaged or
        stale, were tuned for another k, or only for lower targets."""
        if isinstance(target_recall, (bool, str, bytes)) or not isinstance(target_recall, numbers.Real) or not 0 < target_recall <= 1:
            raise Error(f"target_recall must be a number in (0, 1], got {target_recall!r}")
        self._settings(k, None, None, "approximate", None)
        method, query_cut, heap_factor = ctypes.c_int32(), ctypes.c_int64(), ctypes.c_float()
        _call(_lib.lsr_index_preset, self._open, float(target_recall), int(k), ctypes.byref(method), ctypes.byref(query_cut),
              ctypes.byref(heap_factor))
        if method.value == 1:
            return {"method": "exact", "query_cut": None, "heap_factor": None}
        return {"method": "approximate", "query_cut": int(query_cut.value), "heap_factor": float(heap_factor.value)}

    def _chosen(self, target_recall, k, query_cut, heap_factor, method):
        return _chosen_settings(self.preset, target_recall, k, query_cut, heap_factor, method)

    def _ids(self, positions):
        """External ids (object array) of document positions (-1: "")."""
        flat = np.ascontiguousarray(positions, dtype=np.int64).ravel()
        buffer, size = ctypes.c_void_p(), ctypes.c_int64()
        _call(_lib.lsr_index_document_ids, self._open, flat.ctypes.data, flat.size, ctypes.byref(buffer), ctypes.byref(size))
        names = np.empty(flat.size, dtype=object)
        names[:] = _split(buffer, size.value)
        return names.reshape(positions.shape)

    def search(self, queries, k=10, query_cut=None, heap_factor=None, method=None, threads=None, *,
               vocabulary=None, query_ids=None, return_query_ids=False, target_recall=None):
        """Searches `queries`: a `scipy.sparse.csr_matrix` (columns named by `vocabulary`, a list
        of tokens), a list of `{token: weight}` dicts, or a path to a query file (any format
        `lsr search --queries` reads; binary queries take `vocabulary` as a file path and
        `query_ids`). `method` is "approximate" (None, the default: Seismic's skip-ahead search, or
        exact search where the planner estimates it cheaper), "exact" or "brute_force";
        `query_cut` and `heap_factor` default to lsr's defaults; `threads` to every core.
        `target_recall` (instead of `query_cut`, `heap_factor` and `method`) searches with the
        preset `lsr tune` stored for that recall@k target (see `preset`).

        Returns `(ids, scores)`, NumPy arrays of shape (queries, k) in query order: `ids` of
        dtype object holding the external document ids (str), `scores` float32; rows with
        fewer than k hits are padded with "" and -inf. With `return_query_ids=True` (for a path,
        whose rows are the file's queries in file order), returns `(query_ids, ids, scores)`.
        """
        query_cut, heap_factor, method = self._chosen(target_recall, k, query_cut, heap_factor, method)
        names, positions, scores = self._search(queries, k, query_cut, heap_factor, method, threads, vocabulary, query_ids,
                                                return_query_ids)
        ids = self._ids(positions)
        return (names, ids, scores) if return_query_ids else (ids, scores)

    def _search(self, queries, k, query_cut, heap_factor, method, threads, vocabulary=None, query_ids=None, return_query_ids=False):
        """`search`'s work: (query ids of a file or None, document positions with -1 padding,
        scores)."""
        settings = self._settings(k, query_cut, heap_factor, method, threads)
        if isinstance(queries, (str, os.PathLike)):
            return self._search_file(queries, vocabulary, query_ids, settings)
        if return_query_ids:
            raise Error("return_query_ids= goes with a query file (in-memory queries are numbered by their order)")
        indptr, indices, data, tokens = _as_csr(queries, vocabulary)
        rows = len(indptr) - 1
        documents = np.empty((rows, settings[0]), dtype=np.int64)
        scores = np.empty((rows, settings[0]), dtype=np.float32)
        token_array = (ctypes.c_char_p * max(1, len(tokens)))(*_encode_strings(tokens))
        _call(_lib.lsr_index_search_csr, self._open, indptr.ctypes.data, rows, len(indices), indices.ctypes.data, data.ctypes.data,
              ctypes.cast(token_array, ctypes.c_void_p), len(tokens), *settings, documents.ctypes.data, scores.ctypes.data)
        return None, documents, scores

    def _search_file(self, path, vocabulary, query_ids, settings):
        ids, ids_size, count = ctypes.c_void_p(), ctypes.c_int64(), ctypes.c_int64()
        documents, scores = ctypes.c_void_p(), ctypes.c_void_p()
        _call(_lib.lsr_index_search_file, self._open, _encode(path), _encode(query_ids), _encode(vocabulary), *settings,
              ctypes.byref(ids), ctypes.byref(ids_size), ctypes.byref(count), ctypes.byref(documents), ctypes.byref(scores))
        k, rows = settings[0], count.value
        try:
            positions = np.ctypeslib.as_array(ctypes.cast(documents, ctypes.POINTER(ctypes.c_int64)), (max(1, rows * k),))[:rows * k].copy()
            values = np.ctypeslib.as_array(ctypes.cast(scores, ctypes.POINTER(ctypes.c_float)), (max(1, rows * k),))[:rows * k].copy()
        finally:
            _lib.lsr_free(documents)
            _lib.lsr_free(scores)
            names = _split(ids, ids_size.value)
        if len(names) != rows:
            raise Error(f"{path}: a query id holds a NUL character")
        return names, positions.reshape(rows, k), values.reshape(rows, k)

    def search_text(self, texts, k=10, query_cut=None, heap_factor=None, method=None, threads=None, *, target_recall=None):
        """Searches text queries (a string or a list of strings) with the index's stored text
        query encoder (`lsr add-encoder`, or a BM25 index); returns `(ids, scores)` as `search`
        (`target_recall` as there)."""
        query_cut, heap_factor, method = self._chosen(target_recall, k, query_cut, heap_factor, method)
        positions, scores = self._search_text(texts, k, query_cut, heap_factor, method, threads)
        return self._ids(positions), scores

    def _search_text(self, texts, k, query_cut, heap_factor, method, threads):
        """`search_text`'s work: (document positions with -1 padding, scores)."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        settings = self._settings(k, query_cut, heap_factor, method, threads)
        documents = np.empty((len(texts), settings[0]), dtype=np.int64)
        scores = np.empty((len(texts), settings[0]), dtype=np.float32)
        array = (ctypes.c_char_p * max(1, len(texts)))(*_encode_strings(texts, "a text"))
        _call(_lib.lsr_index_search_text, self._open, ctypes.cast(array, ctypes.c_void_p), len(texts), *settings,
              documents.ctypes.data, scores.ctypes.data)
        return documents, scores

    def document(self, id):
        """The stored content of the document with external id `id` (None when it has none);
        raises KeyError when the index has no such document."""
        content, found = ctypes.c_void_p(), ctypes.c_int32()
        if id is None:
            raise KeyError(id)
        _call(_lib.lsr_index_document, self._open, _encode(id), ctypes.byref(content), ctypes.byref(found))
        if not found.value:
            raise KeyError(id)
        return _take_string(content)


def _chosen_settings(preset_of, target_recall, k, query_cut, heap_factor, method):
    """(query_cut, heap_factor, method): as given (method None: "approximate"), or
    `preset_of(target_recall, k)`'s."""
    if target_recall is None:
        return query_cut, heap_factor, method or "approximate"
    if query_cut is not None or heap_factor is not None or method is not None:
        raise Error("target_recall chooses the search settings: leave out query_cut, heap_factor and method")
    preset = preset_of(target_recall, k)
    return preset["query_cut"], preset["heap_factor"], preset["method"]


def _merge_top_k(positions, scores, k):
    """The columns of each row's best k candidates (collection positions, -1 padding) in rank
    order, -1 past the candidates: lsr's merge of results from different shards."""
    positions = np.ascontiguousarray(positions, dtype=np.int64)
    scores = np.ascontiguousarray(scores, dtype=np.float32)
    rows, width = positions.shape
    columns = np.empty((rows, k), dtype=np.int64)
    _call(_lib.lsr_merge_top_k, rows, width, k, positions.ctypes.data, scores.ctypes.data, columns.ctypes.data)
    return columns


def _manifest(path):
    """{"shards": N, "documents": D} of the collection at `path`, from its manifest alone."""
    result = ctypes.c_void_p()
    _call(_lib.lsr_collection_manifest, _encode(path), ctypes.byref(result))
    return json.loads(_take_string(result))


def _assemble(directory, output, shards, overwrite):
    """Makes `directory` (beside `output`, holding shards built with `shard=`) the collection at
    `output`."""
    _call(_lib.lsr_collection_assemble, _encode(directory), _encode(output), int(shards), int(bool(overwrite)))


def _as_csr(queries, vocabulary):
    """(indptr int64, indices int32, data float32, tokens) of queries given as a CSR matrix or
    as {token: weight} dicts."""
    if _is_sparse(queries):
        if vocabulary is None:
            raise Error("a sparse matrix needs vocabulary= (the token of each column)")
        matrix = queries.tocsr()
        if matrix.shape[1] > len(vocabulary):
            raise Error(f"the matrix has {matrix.shape[1]} columns for a vocabulary of {len(vocabulary)} tokens")
        if not matrix.has_canonical_format:
            matrix = matrix.copy()
            matrix.sum_duplicates()
        return (np.ascontiguousarray(matrix.indptr, dtype=np.int64), np.ascontiguousarray(matrix.indices, dtype=np.int32),
                np.ascontiguousarray(matrix.data, dtype=np.float32), [str(t) for t in vocabulary])
    if isinstance(queries, Mapping):
        raise Error("queries must be a list of {token: weight} dicts, a sparse matrix or a path, not one dict")
    positions, indptr, indices, data = {}, [0], [], []
    for q, query in enumerate(queries):
        if not isinstance(query, Mapping):
            raise Error(f"query {q}: expected a {{token: weight}} dict, got {type(query).__name__}")
        # setdefault numbers a token when first seen: the column of each token, in one pass.
        indices.extend([positions.setdefault(token, len(positions)) for token in query])
        data.extend(query.values())
        indptr.append(len(indices))
    return (np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int32), np.array(data, dtype=np.float32),
            [str(token) for token in positions])


def build(documents, output, *, ids=None, vocabulary=None, overwrite=False, progress=None, **build_params):
    """Builds an index of `documents` at `output` and returns its statistics (documents,
    nonzeros, postings, blocks, index_bytes, seconds).

    `documents`: a path to a vector file (every format `lsr index --input` reads; binary files
    take `ids=` and `vocabulary=` as file paths), a `scipy.sparse.csr_matrix` (one row per
    document, columns named by `vocabulary`, a list of tokens; `ids` a list of external ids,
    default the row numbers), or an iterable of `{token: weight}` dicts (`ids` likewise).
    `build_params`: n_postings, max_fraction, centroid_fraction, min_cluster_size, doc_cut,
    summary_energy, precision ("f16"/"f32"), summaries ("auto"/"always"/"never"), seed, threads;
    shards (N > 1: a sharded collection of N indexes over a round-robin partition, which
    `Index` opens like an index) and shard (with shards: build only that shard, an index at
    `output`; `lsr.distributed.build` builds each shard so).
    `progress`: a callable(stage, done, total) (total None when unknown), or True for a tqdm bar
    when tqdm is installed.
    """
    if output is None:
        raise Error("build needs an output path")
    options = json.dumps(dict(build_params, overwrite=bool(overwrite))).encode()
    callback = _progress_callback(progress)
    callback = ctypes.cast(callback, ctypes.c_void_p) if callback else None
    statistics = ctypes.c_void_p()
    if _is_sparse(documents):
        # Read in place by lsr (no file, no copy of indices and float32 data).
        indptr, indices, data, tokens = _as_csr(documents, vocabulary)
        rows = len(indptr) - 1
        names = None if ids is None else [str(i) for i in ids]
        if names is not None and len(names) != rows:
            raise Error(f"{len(names)} ids for {rows} documents")
        token_array = (ctypes.c_char_p * max(1, len(tokens)))(*_encode_strings(tokens))
        id_array = None if names is None else (ctypes.c_char_p * max(1, rows))(*_encode_strings(names, "an id"))
        _call(_lib.lsr_build_csr, indptr.ctypes.data, rows, len(indices), indices.ctypes.data, data.ctypes.data,
              ctypes.cast(token_array, ctypes.c_void_p), len(tokens), ctypes.cast(id_array, ctypes.c_void_p) if id_array else None,
              _encode(output), options, callback, ctypes.byref(statistics))
        return json.loads(_take_string(statistics))
    with tempfile.TemporaryDirectory(prefix="lsr-build-") as scratch:
        if isinstance(documents, (str, os.PathLike)):
            paths = (documents, ids, vocabulary)
        else:
            paths = (_write_dicts(documents, ids, scratch), None, None)
        _call(_lib.lsr_build, _encode(paths[0]), _encode(paths[1]), _encode(paths[2]), _encode(output), options,
              callback, ctypes.byref(statistics))
    return json.loads(_take_string(statistics))


def _progress_callback(progress):
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        bars = {}

        def report(stage, done, total):
            bar = bars.get(stage) or bars.setdefault(stage, tqdm(desc=stage, total=total))
            bar.n = done
            bar.refresh()
        progress = report
    return _PROGRESS(lambda stage, done, total: progress(stage.decode(), done, None if total < 0 else total))


def _write_dicts(documents, ids, scratch):
    """Writes `{token: weight}` documents as Seismic JSONL in `scratch`; returns its path."""
    path = os.path.join(scratch, "documents.jsonl")
    names = None if ids is None else iter(ids)
    with open(path, "w", encoding="utf-8") as out:
        for d, vector in enumerate(documents):
            if not isinstance(vector, Mapping):
                raise Error(f"document {d}: expected a {{token: weight}} dict, got {type(vector).__name__}")
            name = str(d) if names is None else str(next(names))
            out.write(json.dumps({"id": name, "vector": {str(t): float(w) for t, w in vector.items()}}) + "\n")
    return path


def evaluate(run, qrels, metrics=("ndcg@10", "recall@100", "p@10", "map@100", "mrr"), complete=False):
    """Evaluates `run` against `qrels` with trec_eval's definitions: the numbers of `lsr eval`.

    `run`: a TREC run file path or `{query_id: {document_id: score}}` (the id "", which pads
    `Index.search` rows, is skipped); `qrels`: a path (BEIR TSV
    or TREC) or `{query_id: {document_id: grade}}`; `metrics`: names such as ndcg@10,
    recall@100, p@10, map@100, mrr, mrr@10. Returns `{"queries": n, "metrics": {name: mean},
    "per_query": {query_id: {name: value}}}`.
    """
    with tempfile.TemporaryDirectory(prefix="lsr-eval-") as scratch:
        if isinstance(run, Mapping):
            path = os.path.join(scratch, "run.trec")
            with open(path, "w", encoding="utf-8") as out:
                for query, documents in run.items():
                    # "" is the padding of rows with fewer than k hits (Index.search).
                    ranked = sorted(((d, s) for d, s in documents.items() if d != ""), key=lambda item: -float(item[1]))
                    for rank, (document, score) in enumerate(ranked, 1):
                        out.write(f"{query} Q0 {document} {rank} {float(score)!r} python\n")
            run = path
        if isinstance(qrels, Mapping):
            path = os.path.join(scratch, "qrels.tsv")
            with open(path, "w", encoding="utf-8") as out:
                out.write("query-id\tcorpus-id\tscore\n")
                for query, judged in qrels.items():
                    for document, grade in judged.items():
                        out.write(f"{query}\t{document}\t{int(grade)}\n")
            qrels = path
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        result = ctypes.c_void_p()
        _call(_lib.lsr_evaluate, _encode(run), _encode(qrels), ",".join(names).encode(), int(bool(complete)), ctypes.byref(result))
    return json.loads(_take_string(result))
