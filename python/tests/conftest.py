"""Fixtures the binding's tests share: the `lsr` command line, and a collection on which
`lsr tune` chooses approximate search."""
import json, os, subprocess

import numpy as np
import pytest
import scipy.sparse

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def cli():
    """Runs the release `lsr` with the given arguments; returns its standard output."""
    binary = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPOSITORY, check=True,
                            capture_output=True, text=True).stdout.strip()

    def run(*arguments):
        return subprocess.run([os.path.join(binary, "lsr"), *arguments], check=True, capture_output=True, text=True).stdout
    return run


@pytest.fixture(scope="session")
def skewed(tmp_path_factory):
    """(documents, vocabulary, query file): 20,000 documents of about 21 of 300 tokens drawn
    with Zipf-like popularity, and 200 queries of about 12; built with n_postings=150, lists
    are pruned enough that `lsr tune` picks approximate search for low recall targets (the
    committed 1,000-document sample is too small for blocks: every preset there is exact)."""
    generator = np.random.default_rng(5)
    documents, dimension = 20000, 300
    popularity = 1.0 / np.arange(1, dimension + 1) ** 0.8
    popularity /= popularity.sum()
    rows, columns, values = [], [], []
    for d in range(documents):
        terms = np.unique(generator.choice(dimension, size=25, p=popularity))
        rows += [d] * len(terms)
        columns += terms.tolist()
        values += generator.gamma(1.0, 1.0, len(terms)).tolist()
    matrix = scipy.sparse.csr_matrix((values, (rows, columns)), shape=(documents, dimension), dtype=np.float32)
    queries = str(tmp_path_factory.mktemp("skewed") / "queries.jsonl")
    with open(queries, "w") as f:
        for q in range(200):
            terms = np.unique(generator.choice(dimension, size=12, p=popularity))
            f.write(json.dumps({"id": f"q{q}", "vector": {f"t{t}": float(generator.gamma(1.0, 1.0)) for t in terms}}) + "\n")
    return matrix, [f"t{c}" for c in range(dimension)], queries
