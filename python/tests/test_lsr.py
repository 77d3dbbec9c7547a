"""The Python binding against the `lsr` command line, on the committed SciFact sample (1,000
documents, 40 queries, qrels): same ids and scores, CSR input equal to JSONL input, errors as
exceptions, threads."""
import json, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse

import lsr

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPOSITORY, "Indexes/sample/corpus.jsonl.zst")
QUERIES = os.path.join(REPOSITORY, "Queries/sample/queries.jsonl")
QRELS = os.path.join(REPOSITORY, "Queries/sample/qrels/test.tsv")
# The format-compatibility fixture: an index with an IDF text query encoder (Indexes/compat).
FIXTURE = os.path.join(REPOSITORY, "Indexes/compat/v2")


def read_run(path):
    """{query: [(document, float32 score)]} in rank order, from a TREC run."""
    run = {}
    for line in open(path):
        query, _, document, _, score, _ = line.split()
        run.setdefault(query, []).append((document, np.float32(score)))
    return run


def query_dicts():
    records = [json.loads(line) for line in open(QUERIES) if line.strip()]
    return [r["id"] for r in records], [r["vector"] for r in records]


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sample") / "sample.lsr")
    statistics = lsr.build(CORPUS, path, threads=2)
    assert statistics["documents"] == 1000
    with lsr.Index(path) as opened:
        yield opened


@pytest.mark.parametrize("method,extra", [("approximate", []), ("exact", ["--exact"]), ("brute_force", ["--brute-force"])])
def test_results_equal_the_command_line(cli, index, tmp_path, method, extra):
    run = tmp_path / "cli.run"
    cli("search", "--index", index.path, "--queries", QUERIES, "--k", "10", "--threads", "1", "--output", str(run), *extra)
    expected = read_run(run)
    query_ids, ids, scores = index.search(QUERIES, k=10, method=method, threads=1, return_query_ids=True)
    assert all((a == b).all() for a, b in zip(index.search(QUERIES, k=10, method=method, threads=1), (ids, scores)))
    assert query_ids == list(expected)
    for q, query in enumerate(query_ids):
        hits = [(d, s) for d, s in zip(ids[q], scores[q]) if d != ""]
        assert hits == expected[query], query
    # The same queries as dicts.
    dict_ids, dict_scores = index.search(query_dicts()[1], k=10, method=method, threads=1)
    assert (dict_ids == ids).all() and (dict_scores == scores).all()


def test_shapes_padding_and_types(index):
    ids, scores = index.search([{"vitamin": 1.0}, {"token-nobody-has": 2.0}, {}], k=2000)
    assert ids.shape == scores.shape == (3, 2000)
    assert ids.dtype == object and scores.dtype == np.float32
    assert all(isinstance(i, str) for i in ids.ravel())
    assert (ids[1] == "").all() and np.isneginf(scores[1]).all() and (ids[2] == "").all()
    found = (ids[0] != "").sum()
    assert 0 < found < 1000 and np.isneginf(scores[0][found:]).all() and (np.diff(scores[0][:found]) <= 0).all()


def test_csr_input_equals_jsonl_input(index, tmp_path):
    records = [json.loads(line) for line in subprocess.run(["zstd", "-dc", CORPUS], check=True, capture_output=True).stdout.splitlines()]
    vocabulary = sorted({token for record in records for token in record["vector"]})
    column = {token: c for c, token in enumerate(vocabulary)}
    rows, columns, values = [], [], []
    for r, record in enumerate(records):
        for token, weight in record["vector"].items():
            rows.append(r), columns.append(column[token]), values.append(weight)
    matrix = scipy.sparse.csr_matrix((np.array(values, dtype=np.float32), (rows, columns)), shape=(len(records), len(vocabulary)))
    built = str(tmp_path / "csr.lsr")
    lsr.build(matrix, built, ids=[r["id"] for r in records], vocabulary=vocabulary, threads=2)
    _, queries = query_dicts()
    query_vocabulary = sorted({t for q in queries for t in q})
    query_matrix = scipy.sparse.csr_matrix(
        ([w for q in queries for w in q.values()],
         ([i for i, q in enumerate(queries) for _ in q], [query_vocabulary.index(t) for q in queries for t in q])),
        shape=(len(queries), len(query_vocabulary)), dtype=np.float32)
    with lsr.Index(built) as from_csr:
        for method in ("approximate", "exact"):
            expected = index.search(queries, k=10, method=method)
            assert all((a == b).all() for a, b in zip(from_csr.search(queries, k=10, method=method), expected))
            assert all((a == b).all() for a, b in zip(index.search(query_matrix, k=10, method=method, vocabulary=query_vocabulary), expected))
    # Dicts as documents: the same index again.
    from_dicts = str(tmp_path / "dicts.lsr")
    lsr.build(iter(r["vector"] for r in records), from_dicts, ids=[r["id"] for r in records], threads=2)
    with lsr.Index(from_dicts) as opened:
        assert all((a == b).all() for a, b in zip(opened.search(queries, k=10), index.search(queries, k=10)))


def test_threads_give_the_same_results(index):
    _, queries = query_dicts()
    one = index.search(queries * 5, k=10, threads=1)
    two = index.search(queries * 5, k=10, threads=2)
    assert (one[0] == two[0]).all() and (one[1] == two[1]).all()
    # Python threads searching the same index at once (the GIL is released inside lsr).
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda q: index.search([q], k=10, threads=1), queries * 3))
    for q, (ids, scores) in enumerate(results):
        assert (ids[0] == one[0][q % len(queries)]).all() and (scores[0] == one[1][q % len(queries)]).all()
    empty = index.search([], k=10)
    assert empty[0].shape == empty[1].shape == (0, 10)


def test_preload_maps_the_index_and_changes_no_result(index):
    """`preload()` maps the index where the system can (Linux 5.14 and later); results stay."""
    _, queries = query_dicts()
    before = index.search(queries, k=10)
    release = tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in os.uname().release.split(".")[:2])
    assert index.preload() == (sys.platform.startswith("linux") and release >= (5, 14))
    after = index.search(queries, k=10)
    assert (after[0] == before[0]).all() and (after[1] == before[1]).all()


def test_documents_and_text(index):
    ids, _ = index.search(query_dicts()[1][:1], k=1)
    assert index.document(ids[0][0])  # the sample stores every document's text
    with pytest.raises(KeyError):
        index.document("no such document")
    with pytest.raises(lsr.Error, match="no text query encoder"):
        index.search_text("vitamin b12")


def test_text_queries_equal_the_command_line(cli, tmp_path):
    with open(os.path.join(FIXTURE, "text-queries.jsonl")) as lines:
        texts = [json.loads(line) for line in lines]
    run = tmp_path / "text.run"
    cli("search", "--index", os.path.join(FIXTURE, "index"), "--queries", os.path.join(FIXTURE, "text-queries.jsonl"),
        "--k", "10", "--threads", "1", "--output", str(run))
    expected = read_run(run)
    with lsr.Index(os.path.join(FIXTURE, "index")) as index:
        ids, scores = index.search_text([t["text"] for t in texts], k=10, threads=1)
        one_id, _ = index.search_text(texts[0]["text"], k=10)
    for q, text in enumerate(texts):
        assert [(d, s) for d, s in zip(ids[q], scores[q]) if d] == expected[text["_id"]]
    assert (one_id[0] == ids[0]).all()


def test_build_reports_progress(tmp_path):
    seen = []
    statistics = lsr.build([{"a": 1.0, "b": 2.0}, {"b": 0.5}], str(tmp_path / "tiny.lsr"),
                           progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert statistics["documents"] == 2 and statistics["nonzeros"] == 3
    assert seen and all(isinstance(stage, str) and done >= 0 for stage, done, _ in seen)
    assert {stage for stage, _, _ in seen} <= {"reading vectors", "inverting", "clustering blocks", "writing index"}


def test_evaluate_equals_lsr_eval(cli, index, tmp_path):
    run = tmp_path / "run"
    cli("search", "--index", index.path, "--queries", QUERIES, "--k", "100", "--threads", "1", "--output", str(run))
    expected = json.loads(cli("eval", "metrics", "--run", str(run), "--qrels", QRELS, "--metrics", "ndcg@10,recall@100,mrr",
                              "--json", "--per-query"))
    result = lsr.evaluate(str(run), QRELS, metrics=["ndcg@10", "recall@100", "mrr"])
    assert result["metrics"] == expected["metrics"]
    assert result["per_query"] == expected["per_query"]
    # A run given as a dict gives the same numbers.
    as_dict = {q: {d: float(s) for d, s in hits} for q, hits in read_run(run).items()}
    assert lsr.evaluate(as_dict, QRELS, metrics=["ndcg@10", "recall@100", "mrr"])["metrics"] == result["metrics"]
    # Padding of short rows is skipped; qrels may be a dict too.
    padded = lsr.evaluate({"q": {"": float("-inf"), "d2": 2.0, "d1": 1.0}}, {"q": {"d1": 1}}, metrics=["mrr", "p@1"])
    assert padded["metrics"] == {"mrr": 0.5, "p@1": 0.0} and padded["queries"] == 1


def test_bad_input_raises(index, tmp_path):
    with pytest.raises(lsr.Error, match="cannot open"):
        lsr.Index(str(tmp_path / "missing"))
    with pytest.raises(lsr.Error, match="k must be"):
        index.search([{"vitamin": 1.0}], k=0)
    with pytest.raises(lsr.Error, match="query_cut"):
        index.search([{"vitamin": 1.0}], query_cut=-1)
    with pytest.raises(lsr.Error, match="method"):
        index.search([{"vitamin": 1.0}], method="fast")
    with pytest.raises(lsr.Error, match="finite and not negative"):
        index.search([{"vitamin": -1.0}])
    with pytest.raises(lsr.Error, match="overflow"):
        index.search([{"vitamin": 3e38}])
    with pytest.raises(lsr.Error, match="duplicate id 'q'"):
        bad = tmp_path / "repeat.jsonl"
        bad.write_text('{"id": "q", "vector": {"a": 1}}\n{"id": "q", "vector": {"b": 1}}\n')
        index.search(str(bad))
    with pytest.raises(lsr.Error, match="unknown build option 'n_posting'"):
        lsr.build(CORPUS, str(tmp_path / "x.lsr"), n_posting=10)
    with pytest.raises(lsr.Error, match="weight"):
        lsr.build([{"a": -1.0}], str(tmp_path / "y.lsr"))
    with pytest.raises(lsr.Error, match="exists"):
        lsr.build(CORPUS, index.path)
    with pytest.raises(lsr.Error, match="vocabulary="):
        index.search(scipy.sparse.csr_matrix(np.ones((1, 2), dtype=np.float32)))
    negative = scipy.sparse.csr_matrix(np.array([[1.0, -2.0]], dtype=np.float32))
    with pytest.raises(lsr.Error, match="row 0: weight -2.0 of token 'b' must be finite and not negative"):
        lsr.build(negative, str(tmp_path / "negative.lsr"), vocabulary=["a", "b"])
    with pytest.raises(lsr.Error, match="row 1: duplicate id 'd'"):
        lsr.build(scipy.sparse.csr_matrix(np.ones((2, 1), dtype=np.float32)), str(tmp_path / "twice.lsr"), vocabulary=["a"], ids=["d", "d"])
    with pytest.raises(lsr.Error, match="2 ids for 1 documents"):
        lsr.build(negative, str(tmp_path / "ids.lsr"), vocabulary=["a", "b"], ids=["x", "y"])
    assert not (tmp_path / "negative.lsr").exists() and not (tmp_path / "twice.lsr").exists()
    for k in (-1, 0, 2.5, 2**31):
        with pytest.raises(lsr.Error, match="k must be"):
            index.search([{"vitamin": 1.0}], k=k)
    with pytest.raises(lsr.Error, match="NUL"):
        index.search([{"vita\0min": 1.0}])
    with pytest.raises(lsr.Error, match="wrong type"):
        lsr.build(CORPUS, str(tmp_path / "z.lsr"), threads="two")
    closed = lsr.Index(index.path)
    closed.close()
    with pytest.raises(lsr.Error, match="closed"):
        closed.search([{"vitamin": 1.0}])
    with pytest.raises(lsr.Error, match="closed"):
        len(closed)


def test_build_options_of_value_one_and_zero(tmp_path):
    # JSON numbers 1 and 0 are numbers, not booleans.
    path = str(tmp_path / "ones.lsr")
    lsr.build(CORPUS, path, threads=1, seed=0, min_cluster_size=1, summary_energy=1.0, n_postings=1000, summaries="always")
    with lsr.Index(path) as built:
        assert len(built) == 1000


def test_target_recall_searches_with_the_stored_preset(cli, skewed, tmp_path):
    """`target_recall=` resolves to the preset `lsr tune` stored (index or collection) and
    searches exactly as those settings do; without presets it is a clear error."""
    matrix, vocabulary, queries = skewed
    for shards in (None, 2):
        path = str(tmp_path / f"tuned{shards}")
        lsr.build(matrix, path, vocabulary=vocabulary, threads=2, n_postings=150, **({"shards": shards} if shards else {}))
        with lsr.Index(path) as opened:
            with pytest.raises(lsr.Error, match="no presets: run `lsr tune"):
                opened.search(queries, target_recall=0.8)
            cli("tune", "--index", path, "--queries", queries, "--target-recall", "0.5,0.8,0.95", "--threads", "2", "--selection", "model")
            stored = json.loads(open(os.path.join(path, "presets")).read().split("\n", 1)[1])["presets"]
            assert "approximate" in [p["method"] for p in stored], (shards, stored)
            for target, expected in ((0.5, stored[0]), (0.6, stored[1]), (0.8, stored[1]), (0.95, stored[2])):
                preset = opened.preset(target)
                if expected["method"] == "exact":
                    assert preset == {"method": "exact", "query_cut": None, "heap_factor": None}, (shards, target)
                else:
                    assert preset == {"method": "approximate", "query_cut": expected["query_cut"],
                                      "heap_factor": pytest.approx(expected["heap_factor"])}, (shards, target)
                settings = {name: value for name, value in preset.items() if value is not None}
                got, want = opened.search(queries, k=10, target_recall=target), opened.search(queries, k=10, **settings)
                assert (got[0] == want[0]).all() and (got[1] == want[1]).all(), (shards, target)
            assert opened.preset(np.float32(0.8)) == opened.preset(0.8)
            with pytest.raises(lsr.Error, match="no preset reaches recall 0.99"):
                opened.preset(0.99)
            with pytest.raises(lsr.Error, match="tuned for k=10, not 5"):
                opened.search(queries, k=5, target_recall=0.8)
            for chosen in ({"query_cut": 3}, {"heap_factor": 0.9}, {"method": "approximate"}, {"method": "exact"}):
                with pytest.raises(lsr.Error, match="leave out query_cut"):
                    opened.search(queries, target_recall=0.8, **chosen)
            for bad in (1.5, 0, "0.9", True):
                with pytest.raises(lsr.Error, match="target_recall must be"):
                    opened.preset(bad)
        if shards:
            with lsr.Index(path, shards=[1]) as server, lsr.Index(path) as whole:
                assert server.preset(0.8) == whole.preset(0.8)


def test_sharded_collection_equals_one_index(index, tmp_path):
    """`lsr.build(..., shards=N)` writes a collection that `lsr.Index` opens like an index: exact
    and brute-force results equal the single index's, ids and scores."""
    path = str(tmp_path / "sharded")
    statistics = lsr.build(CORPUS, path, shards=3, threads=2)
    assert statistics["documents"] == 1000
    with lsr.Index(path) as collection:
        assert (collection.shard_count, collection.shards, len(collection)) == (3, (0, 1, 2), 1000)
        assert collection.preload() == index.preload()
        assert (index.shard_count, index.shards) == (0, ())
        for method in ("exact", "brute_force"):
            expected = index.search(QUERIES, k=10, method=method)
            got = collection.search(QUERIES, k=10, method=method)
            assert (got[0] == expected[0]).all() and (got[1] == expected[1]).all(), method
        ids, vectors = query_dicts()
        assert all((a == b).all() for a, b in zip(collection.search(vectors, method="exact"), index.search(vectors, method="exact")))
        first = index.search(vectors[:1], k=1, method="exact")[0][0][0]
        assert collection.document(first) == index.document(first)
        # Servers of some shards: their candidates merge into the collection's results.
        parts = [lsr.Index(path, shards=s) for s in ([0, 2], [1])]
        assert [p.shards for p in parts] == [(0, 2), (1,)]
        found = [p._search(vectors, 10, None, None, "exact", None) for p in parts]
        columns = lsr._merge_top_k(np.hstack([f[1] for f in found]), np.hstack([f[2] for f in found]), 10)
        positions = np.where(columns >= 0, np.take_along_axis(np.hstack([f[1] for f in found]), np.maximum(columns, 0), axis=1), -1)
        assert (collection._ids(positions) == collection.search(vectors, method="exact")[0]).all()
        # Rows with fewer candidates than k are padded with -1 columns.
        few = lsr._merge_top_k(np.array([[5, -1, 3]]), np.array([[1.0, -np.inf, 1.0]], dtype=np.float32), 3)
        assert few.tolist() == [[2, 0, -1]]
        with pytest.raises(lsr.Error, match="not served here"):
            parts[1]._ids(np.array([[0]]))
    with pytest.raises(lsr.Error, match="holds 3 documents, fewer than the 5 shards"):
        lsr.build([{"a": 1.0}, {"b": 1.0}, {"a": 2.0}], str(tmp_path / "many"), shards=5)
    with pytest.raises(lsr.Error, match="shards must be in 1 … 500, got 2000"):
        lsr.build(CORPUS, str(tmp_path / "many"), shards=2000)
    assert not (tmp_path / "many").exists()
    with pytest.raises(lsr.Error, match="'shard' goes with 'shards'"):
        lsr.build(CORPUS, str(tmp_path / "one"), shard=1)
    with pytest.raises(lsr.Error, match="shards to serve"):
        lsr.Index(path, shards=[3])
