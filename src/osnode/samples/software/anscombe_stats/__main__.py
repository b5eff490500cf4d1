import sys

from . import load, summarize

for number, (xs, ys) in load(sys.argv[1]).items():
    stats = summarize(xs, ys)
    print(number, " ".join(f"{k}={v:.3f}" for k, v in stats.items()))
