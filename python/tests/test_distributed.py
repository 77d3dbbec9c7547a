"""lsr.distributed on a local Ray cluster (the `ray` extra): shards built as Ray tasks, served by
Ray actors, with the results of `lsr.Index` over the same collection."""
import json, os

import numpy as np
import pytest

ray = pytest.importorskip("ray")
import lsr
import lsr.distributed

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPOSITORY, "Indexes/sample/corpus.jsonl.zst")
QUERIES = os.path.join(REPOSITORY, "Queries/sample/queries.jsonl")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    yield
    ray.shutdown()


def test_ray_build_and_search_equal_the_local_collection(cluster, tmp_path):
    local, distributed = str(tmp_path / "local"), str(tmp_path / "distributed")
    lsr.build(CORPUS, local, shards=3, threads=1)
    statistics = lsr.distributed.build(CORPUS, distributed, shards=3)
    assert [s["documents"] for s in statistics] == [334, 333, 333]
    for shard in range(3):  # the tasks wrote the bytes lsr writes
        name = "shard-%04d/index.lsr" % shard
        assert open(os.path.join(local, name), "rb").read() == open(os.path.join(distributed, name), "rb").read()
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]
    expected = lsr.Index(local)
    records = [json.loads(line) for line in open(QUERIES) if line.strip()]
    vectors = [r["vector"] for r in records]
    for servers in (None, 2):
        with lsr.distributed.Index(distributed, servers=servers) as index:
            assert len(index) == 1000 and index.shard_count == 3
            for method in ("exact", "approximate"):
                ids, scores = index.search(vectors, k=10, method=method)
                want = expected.search(vectors, k=10, method=method)
                assert (ids == want[0]).all() and (scores == want[1]).all(), (servers, method)
                assert ids.dtype == object and scores.dtype == np.float32
            assert index.shards == (0, 1, 2)
            # A generator of queries, as lsr.Index takes it.
            generated = index.search((v for v in vectors), k=10, method="exact")
            assert (generated[0] == expected.search(vectors, k=10, method="exact")[0]).all()
            names, ids, scores = index.search(QUERIES, k=5, method="exact", return_query_ids=True)
            assert names == [r["id"] for r in records]
            assert (ids == expected.search(QUERIES, k=5, method="exact")[0]).all()
            assert index.document(ids[0][0]) == expected.document(ids[0][0])
            with pytest.raises(KeyError):
                index.document("no such document")
            with pytest.raises(lsr.Error, match="k must be"):
                index.search(vectors, k=0)
            with pytest.raises(lsr.Error, match="no presets"):
                index.search(vectors, target_recall=0.9)
    with pytest.raises(lsr.Error, match="already exists"):
        lsr.distributed.build(CORPUS, distributed, shards=2)
    lsr.build(CORPUS, str(tmp_path / "single"), threads=1)
    with pytest.raises(lsr.Error, match="not a sharded collection"):
        lsr.distributed.Index(str(tmp_path / "single"))
    os.remove(os.path.join(local, "shard-0001", "index.lsr"))
    with pytest.raises(lsr.Error, match="shard-0001/index.lsr: cannot open"):
        lsr.distributed.Index(local)
    with pytest.raises(lsr.Error, match="servers must be"):
        lsr.distributed.Index(distributed, servers=4)


def test_target_recall_uses_the_collections_presets(cluster, cli, skewed, tmp_path):
    """Every server checks the collection's presets against its own shards: search with
    `target_recall=` equals lsr.Index's with the preset's settings, and fails once a shard is
    not the one tuned on, whichever server holds it."""
    matrix, vocabulary, queries = skewed
    path = str(tmp_path / "tuned")
    lsr.build(matrix, path, vocabulary=vocabulary, shards=2, threads=1, n_postings=150)
    with lsr.distributed.Index(path, servers=2) as index:
        with pytest.raises(lsr.Error, match="no presets"):
            index.search(queries, target_recall=0.5)
    cli("tune", "--index", path, "--queries", queries, "--target-recall", "0.5", "--threads", "2", "--selection", "model")
    with lsr.distributed.Index(path, servers=2) as index, lsr.Index(path) as local:
        preset = index.preset(0.5)
        assert preset == local.preset(0.5) and preset["method"] == "approximate", preset
        got = index.search(queries, k=10, target_recall=0.5)
        want = local.search(queries, k=10, **{name: value for name, value in preset.items() if value is not None})
        assert (got[0] == want[0]).all() and (got[1] == want[1]).all()
    # Shard 1 rebuilt from other documents of the same count: the server holding it refuses.
    other = str(tmp_path / "other")
    lsr.build(matrix[::-1], other, vocabulary=vocabulary, shards=2, threads=1, n_postings=150)
    os.remove(os.path.join(path, "shard-0001", "index.lsr"))
    os.link(os.path.join(other, "shard-0001", "index.lsr"), os.path.join(path, "shard-0001", "index.lsr"))
    with lsr.distributed.Index(path, servers=2) as index:
        with pytest.raises(lsr.Error, match="another collection"):
            index.preset(0.5)


def test_ray_build_of_in_memory_documents(cluster, tmp_path):
    import scipy.sparse
    matrix = scipy.sparse.random(300, 40, density=0.1, format="csr", dtype=np.float32, random_state=7)
    vocabulary = [f"t{c}" for c in range(40)]
    local, distributed = str(tmp_path / "csr-local"), str(tmp_path / "csr-ray")
    lsr.build(matrix, local, vocabulary=vocabulary, shards=3, threads=1)
    lsr.distributed.build(matrix, distributed, vocabulary=vocabulary, shards=3)
    queries = [{"t1": 1.0, "t7": 0.5}, {"t30": 2.0}]
    with lsr.distributed.Index(distributed) as index:
        got, want = index.search(queries, k=20, method="exact"), lsr.Index(local).search(queries, k=20, method="exact")
        assert (got[0] == want[0]).all() and (got[1] == want[1]).all()

    documents = [{"a": 1.0, "b": 0.5}, {"b": 2.0}, {"a": 0.25, "c": 1.0}, {"c": 3.0}, {"a": 2.0}]
    output = str(tmp_path / "memory")
    lsr.distributed.build(documents, output, shards=2, ids=[f"d{i}" for i in range(5)])
    with lsr.distributed.Index(output) as index:
        ids, scores = index.search([{"a": 1.0, "c": 1.0}], k=3, method="exact")
    assert list(ids[0]) == ["d3", "d4", "d2"]
    assert list(scores[0]) == [3.0, 2.0, 1.25]
