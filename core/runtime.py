"""How a serving process runs Python's garbage collector, shared by the ASGI entry point and the benchmarks that
measure what that process does (so their figures are the worker's, not a default interpreter's)."""

import gc

# Python's default (700, 10, 10) collects after every 700 allocations net; a chat message or an answer makes
# hundreds, and the collections' pauses were most of the p99 under load (README, load test: p99 at 500
# questions/s about 400 ms with the default, 113-156 ms with these; an answer over 10,000 cards: p99 3.5 ms
# with the default, 2.3 ms with these). Cycles are still collected.
WORKER_GC_THRESHOLDS = (50_000, 20, 100)


def settle_worker_memory() -> None:
    """What is loaded by now (Django, jieba's dictionary) lives as long as the worker: moved out of the garbage
    collector's generations, it is not walked again by every full collection; then the worker's thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
