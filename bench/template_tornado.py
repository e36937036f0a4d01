"""Times Python tornado.template on the page of bench/template.mjs; prints JSON.

Reads {"templates", "main", "namespace", "seconds", "rounds"} on stdin; renders the page for
`seconds` per round and prints {"rendersPerSecond": median, "output": one rendering}.
"""
import json
import statistics
import sys
import time

from tornado.template import DictLoader
from tornado.util import ObjectDict

spec = json.load(sys.stdin)
loader = DictLoader(spec["templates"])
template = loader.load(spec["main"])
namespace = {
    k: [ObjectDict(x) for x in v] if isinstance(v, list) else v
    for k, v in spec["namespace"].items()
}
for _ in range(200):
    template.generate(**namespace)
rates = []
for _ in range(spec["rounds"]):
    count = 0
    start = time.perf_counter()
    deadline = start + spec["seconds"]
    while True:
        for _ in range(50):
            template.generate(**namespace)
        count += 50
        now = time.perf_counter()
        if now >= deadline:
            break
    rates.append(count / (now - start))
print(json.dumps({
    "rendersPerSecond": statistics.median(rates),
    "output": template.generate(**namespace).decode("utf-8"),
}))
