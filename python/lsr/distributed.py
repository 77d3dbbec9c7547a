"""Sharded lsr collections built and served on Ray (`pip install "./python[ray]"`).

    import lsr.distributed
    lsr.distributed.build("docs.jsonl.zst", "/shared/docs.lsr", shards=8)   # shards built as Ray tasks
    index = lsr.distributed.Index("/shared/docs.lsr")                       # shards served by Ray actors
    ids, scores = index.search([{"vitamin": 1.2, "b12": 0.8}], k=10)        # as lsr.Index.search

A collection is what `lsr index --shards N` writes: N ordinary indexes over a round-robin
partition of the documents and a manifest. Each build task reads the input and keeps its
partition; each server actor maps its shards once; a search sends the query batch to every
server (one object in Ray's store), each searches its shards with lsr and merges them, and the
caller merges the servers' top k with lsr's merge (`lsr_merge_top_k`): the results equal
`lsr.Index(path).search` on the same collection, ids and scores.

Paths must name the same files on every node (a shared file system such as NFS): build tasks
and server actors are placed by Ray, on any node. The caller reads the manifest only.
`ray.init()` is called (on this machine) when Ray is not running yet; to use a cluster, call
`ray.init(address=...)` first.
"""
import os, shutil, uuid

import numpy as np
import ray

import lsr

__all__ = ["Index", "build"]


def _ensure_ray():
    if not ray.is_initialized():
        ray.init(include_dashboard=False, logging_level="warning")


@ray.remote
def _build_shard(documents, ids, vocabulary, output, shard, shards, params):
    # overwrite: the directory is this build's own, and a retried task finds its shard there.
    return lsr.build(documents, output, ids=ids, vocabulary=vocabulary, shards=shards, shard=shard, overwrite=True, **params)


def _absolute(path):
    return os.path.abspath(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else path


def build(documents, output, *, shards, ids=None, vocabulary=None, overwrite=False, cpus_per_shard=1, **build_params):
    """Builds the sharded collection of `documents` at `output`, each shard a Ray task (on
    `cpus_per_shard` CPUs, the build's threads unless `threads=` says otherwise), and returns
    each shard's statistics. `documents`, `ids`, `vocabulary` and `build_params` are those of
    `lsr.build`: a path every node can read, a CSR matrix (put once in Ray's object store), or
    dicts (written once to a file beside `output` that the tasks read). The shards are built in a directory beside `output`, checked and renamed into place
    at the end (an index or collection at `output` is replaced only with `overwrite=True`);
    on failure nothing is left behind.
    """
    if isinstance(shards, bool) or int(shards) != shards or shards < 1:
        raise lsr.Error(f"shards must be an integer ≥ 1, got {shards!r}")
    if "shard" in build_params or "overwrite" in build_params:
        raise lsr.Error("shard= is for lsr.build; lsr.distributed.build builds every shard")
    _ensure_ray()
    output = os.path.abspath(os.fspath(output))
    parent, name = os.path.split(output)
    if os.path.exists(output) and not overwrite:
        raise lsr.Error(f"{output}: already exists; pass overwrite=True to replace it")
    temporary = os.path.join(parent, f".{name}.lsr-build-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.makedirs(temporary)
    try:
        inputs = os.path.join(temporary, "input")
        os.makedirs(inputs)
        if isinstance(documents, (str, os.PathLike)):
            paths = (_absolute(documents), _absolute(ids), _absolute(vocabulary))
        elif lsr._is_sparse(documents):
            paths = (ray.put(documents), ids, vocabulary)  # one copy in Ray's object store, read by every task
        else:
            paths = (lsr._write_dicts(documents, ids, inputs), None, None)
        params = dict(build_params)
        params.setdefault("threads", max(1, int(cpus_per_shard)))
        tasks = [_build_shard.options(num_cpus=cpus_per_shard).remote(
                     *paths, os.path.join(temporary, "shard-%04d" % s), s, int(shards), params) for s in range(int(shards))]
        try:
            statistics = ray.get(tasks)
        except BaseException:
            # Stop the other tasks before removing what they write.
            for task in tasks:
                ray.cancel(task, force=True)
            ray.wait(tasks, num_returns=len(tasks), timeout=60)
            raise
        shutil.rmtree(inputs)
        lsr._assemble(temporary, output, int(shards), overwrite)
        return statistics
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


@ray.remote
class _ShardServer:
    """Serves some shards of a collection: maps them once, searches them with lsr."""

    def __init__(self, path, shards):
        self.index, self.error = None, None
        try:
            self.index = lsr.Index(path, shards=shards)
        except lsr.Error as error:  # reported by ready(), as lsr's one-line message
            self.error = str(error)

    def ready(self):
        """The shards served, or lsr's message when they could not be opened."""
        return self.error if self.error else self.index.shards

    def search(self, queries, settings, vocabulary, query_ids, return_query_ids):
        names, positions, scores = self.index._search(queries, *settings, vocabulary, query_ids, return_query_ids)
        return names, positions, scores, self.index._ids(positions)

    def search_text(self, texts, settings):
        positions, scores = self.index._search_text(texts, *settings)
        return None, positions, scores, self.index._ids(positions)

    def preset(self, target_recall, k):
        """`lsr.Index.preset` of the served shards (the collection's presets), or lsr's message."""
        try:
            return self.index.preset(target_recall, k)
        except lsr.Error as error:
            return str(error)

    def document(self, id):
        try:
            return True, self.index.document(id)
        except KeyError:
            return False, None


class Index:
    """A sharded collection served by Ray actors, searched like `lsr.Index`.

    `servers`: number of actors (default one per shard); server a serves shards a, a + servers,
    … `cpus_per_server`: the CPUs Ray reserves for each (default 0: servers are placed by
    Ray's SPREAD strategy). A search without `threads=` uses the cluster's CPUs divided among
    the servers on each server (at least 1).
    """

    def __init__(self, path, *, servers=None, cpus_per_server=0):
        _ensure_ray()
        self.path = os.path.abspath(os.fspath(path))
        self._servers = []
        manifest = lsr._manifest(self.path)
        self.shard_count, self._documents = manifest["shards"], manifest["documents"]
        servers = self.shard_count if servers is None else int(servers)
        if not 1 <= servers <= self.shard_count:
            raise lsr.Error(f"servers must be in 1 … {self.shard_count} (the shards), got {servers}")
        self._threads = max(1, int(ray.cluster_resources().get("CPU", 1)) // servers)
        self._servers = [
            _ShardServer.options(num_cpus=cpus_per_server, scheduling_strategy="SPREAD").remote(self.path, list(range(a, self.shard_count, servers)))
            for a in range(servers)]
        answers = ray.get([server.ready.remote() for server in self._servers])
        failures = [answer for answer in answers if isinstance(answer, str)]
        if failures:
            self.close()
            raise lsr.Error(failures[0])
        self.shards = tuple(sorted(s for served in answers for s in served))

    def __len__(self):
        return self._documents

    def close(self):
        """Stops the server actors."""
        for server in getattr(self, "_servers", []):
            ray.kill(server)
        self._servers = []

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()

    def _live(self):
        if not self._servers:
            raise lsr.Error(f"{self.path}: the index is closed")
        return self._servers

    def preset(self, target_recall, k=10):
        """`lsr.Index.preset` of the collection: every server checks the presets against the
        shards it serves (one rebuilt since tuning voids them), and they must agree."""
        answers = ray.get([server.preset.remote(target_recall, k) for server in self._live()])
        for answer in answers:
            if isinstance(answer, str):
                raise lsr.Error(answer)
        return answers[0]

    def _chosen(self, target_recall, k, query_cut, heap_factor, method):
        return lsr._chosen_settings(self.preset, target_recall, k, query_cut, heap_factor, method)

    def search(self, queries, k=10, query_cut=None, heap_factor=None, method=None, threads=None, *,
               vocabulary=None, query_ids=None, return_query_ids=False, target_recall=None):
        """`lsr.Index.search` over the served collection: the same arguments and results."""
        query_cut, heap_factor, method = self._chosen(target_recall, k, query_cut, heap_factor, method)
        settings = (k, query_cut, heap_factor, method, threads or self._threads)
        lsr.Index._settings(*settings)  # refuses bad settings before anything is sent
        if isinstance(queries, (str, os.PathLike)):
            batch = _absolute(queries)
        else:
            batch = ray.put(queries if lsr._is_sparse(queries) or isinstance(queries, list) else list(queries))
        parts = ray.get([s.search.remote(batch, settings, _absolute(vocabulary),
                                         _absolute(query_ids), return_query_ids) for s in self._live()])
        ids, scores = self._merge(parts, k)
        return (parts[0][0], ids, scores) if return_query_ids else (ids, scores)

    def search_text(self, texts, k=10, query_cut=None, heap_factor=None, method=None, threads=None, *, target_recall=None):
        """`lsr.Index.search_text` over the served collection."""
        query_cut, heap_factor, method = self._chosen(target_recall, k, query_cut, heap_factor, method)
        settings = (k, query_cut, heap_factor, method, threads or self._threads)
        lsr.Index._settings(*settings)
        texts = [texts] if isinstance(texts, str) else list(texts)
        parts = ray.get([s.search_text.remote(texts, settings) for s in self._live()])
        return self._merge(parts, k)

    def document(self, id):
        """The stored content of the document with external id `id`; KeyError when no shard has it."""
        for found, content in ray.get([s.document.remote(id) for s in self._live()]):
            if found:
                return content
        raise KeyError(id)

    @staticmethod
    def _merge(parts, k):
        """The servers' results for one batch merged into its top k: (ids, scores)."""
        positions = np.hstack([p[1] for p in parts])
        scores = np.hstack([p[2] for p in parts])
        ids = np.hstack([p[3] for p in parts])
        columns = lsr._merge_top_k(positions, scores, k)
        present = columns >= 0
        safe = np.where(present, columns, 0)
        merged_ids = np.where(present, np.take_along_axis(ids, safe, axis=1), "").astype(object)
        merged_scores = np.where(present, np.take_along_axis(scores, safe, axis=1), -np.inf).astype(np.float32)
        return merged_ids, merged_scores
