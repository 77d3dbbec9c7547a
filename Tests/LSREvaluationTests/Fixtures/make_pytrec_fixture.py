#!/usr/bin/env python3
"""Writes ties.run, graded.qrels and pytrec_eval.json: a run with many score ties and graded,
partly non-relevant judgments, and pytrec_eval-terrier's per-query values for it.
Rerun: .venv-seismic/bin/pip install pytrec-eval-terrier; python3 make_pytrec_fixture.py"""
import json, random
import pytrec_eval

random.seed(11)
run, qrels = {}, {}
for q in range(25):
    qid = f"q{q}"
    docs = random.sample(range(60), 40)
    # Coarse scores make many ties; ids of mixed length make byte order matter.
    run[qid] = {f"d{d}": float(random.choice([1.0, 1.5, 2.0, 2.5, 3.0])) for d in docs}
    if q % 5 == 4:
        continue  # queries without judgments are not evaluated
    judged = random.sample(range(60), 12)
    qrels[qid] = {f"d{d}": random.choice([0, 0, 1, 2, 3]) for d in judged}
qrels["q99"] = {"d1": 1}  # judged but not in the run (counts only with --complete)
qrels["q98"] = {"d1": 0, "d2": 0}  # judged, nothing relevant
run["q98"] = {"d1": 1.0, "d2": 1.0}

measures = {"ndcg_cut.5,10", "recall.5,10", "P.5,10", "map_cut.5,10", "recip_rank"}
values = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
with open("ties.run", "w") as f:
    for qid, docs in run.items():
        for rank, (d, s) in enumerate(sorted(docs.items(), key=lambda x: -x[1])):
            f.write(f"{qid} Q0 {d} {rank + 1} {s} fixture\n")
with open("graded.qrels", "w") as f:
    f.write("query-id\tcorpus-id\tscore\n")
    for qid, docs in qrels.items():
        for d, r in docs.items():
            f.write(f"{qid}\t{d}\t{r}\n")
json.dump(values, open("pytrec_eval.json", "w"), indent=1, sort_keys=True)
