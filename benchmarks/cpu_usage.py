"""CPU time and context switches of this process, as both throughput workloads report them.

Standard library only: the DBOS workload imports it from its own interpreter, which
has none of this project installed.
"""

from __future__ import annotations

import resource

Usage = tuple[float, float, int, int]


def usage() -> Usage:
    """(user s, system s, voluntary switches, involuntary switches) so far."""
    now = resource.getrusage(resource.RUSAGE_SELF)
    return now.ru_utime, now.ru_stime, now.ru_nvcsw, now.ru_nivcsw


def cpu_report(before: Usage, seconds: float) -> dict[str, float]:
    """CPU time and context switches of this process over a run of ``seconds``."""
    after = usage()
    user, system = after[0] - before[0], after[1] - before[1]
    switches = (after[2] - before[2]) + (after[3] - before[3])
    return {
        "cpu_user_s": round(user, 2),
        "cpu_system_s": round(system, 2),
        "cores_busy": round((user + system) / seconds, 2),
        "context_switches_per_ms": round(switches / seconds / 1000, 1),
    }
