"""Where the CPU goes during bench/surge.py: CPU time (user + system, from /proc) by process group over time.

A sampler thread reads /proc/<pid>/stat every SAMPLE_SECONDS for every process of each group (a root process and
its descendants, or the PostgreSQL backends serving one database) and keeps each process's last reading, so a
process that ends keeps what it used up to its last sample. CPU-ms per finished journey, by group, is a capacity
figure that survives a shared machine: the two cores give 2000 CPU-ms a second, and that divided by the
server side's ms per journey is the most this machine can finish.
"""

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

SAMPLE_SECONDS = 0.5
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU ms used so far) of a process, or None when it has gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state, ppid, ..., utime (the 14th field of the line) and stime (the 15th).
    return int(fields[1]), (int(fields[11]) + int(fields[12])) * TICK_MS


def _all_processes() -> dict[int, tuple[int, float]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def _descendants(root: int, processes: dict[int, tuple[int, float]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in processes and pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def machine_busy_ms() -> float:
    """CPU ms the whole machine has spent on anything but idle and I/O wait since boot (all cores together)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) * TICK_MS


class CpuSampler:
    """groups: name -> root pids (each with its descendants); pid_lists: name -> a function returning pids
    (PostgreSQL's backends of the run's database, the bench's own process)."""

    def __init__(self, groups: dict[str, list[int]], pid_lists: dict[str, Callable[[], list[int]]]):
        self.groups = groups
        self.pid_lists = pid_lists
        self.last: dict[str, dict[int, float]] = {name: {} for name in [*groups, *pid_lists]}
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.load_averages: list[tuple[float, float]] = []  # the machine's 1-minute load average
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        processes = _all_processes()
        for name, roots in self.groups.items():
            for root in roots:
                for pid in _descendants(root, processes):
                    self.last[name][pid] = processes[pid][1]
        for name, pids in self.pid_lists.items():
            for pid in pids():
                if pid in processes:
                    self.last[name][pid] = processes[pid][1]
        totals = {name: sum(per_pid.values()) for name, per_pid in self.last.items()}
        totals["machine"] = machine_busy_ms()
        self.samples.append((time.time(), totals))
        self.load_averages.append((time.time(), os.getloadavg()[0]))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_SECONDS)

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def at(self, moment: float) -> dict[str, float]:
        """The totals of the last sample taken at or before ``moment``."""
        earlier = [totals for when, totals in self.samples if when <= moment]
        return earlier[-1] if earlier else self.samples[0][1]

    def load_at(self, moment: float) -> float:
        earlier = [load for when, load in self.load_averages if when <= moment]
        return earlier[-1] if earlier else self.load_averages[0][1]

    def used_between(self, begin: float, end: float) -> dict[str, float]:
        before, after = self.at(begin), self.at(end)
        return {name: after[name] - before.get(name, 0.0) for name in after}


def per_journey(used: dict[str, float], journeys: int, seconds: float) -> dict:
    """CPU-ms per finished journey by group, the server side's sum (what the site itself needs: everything but the
    load generator and the bench process), and the ceiling that sum sets on two cores."""
    if journeys == 0:
        return {}
    by_group = {name: round(ms / journeys, 1) for name, ms in sorted(used.items()) if name != "machine"}
    server = sum(ms for name, ms in by_group.items() if name not in ("load generator", "bench (smtp sink)"))
    cores = os.cpu_count() or 1
    return {
        "cpu_ms_per_journey": by_group,
        "server_cpu_ms_per_journey": round(server, 1),
        "machine_cpu_ms_per_journey": round(used["machine"] / journeys, 1),
        "machine_busy_share": round(used["machine"] / (seconds * 1000 * cores), 2),
        "ceiling_journeys_per_s": round(cores * 1000 / server, 1) if server else None,
    }
