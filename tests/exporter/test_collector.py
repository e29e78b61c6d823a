"""The Prometheus collector over synthetic ticks: names, labels, no PID, ended sheets gone."""

from __future__ import annotations

from mzt_tui.analysis.anomalies import AnomalyChanges
from mzt_tui.headless.engine import TickResult
from mzt_tui.headless.exporter import MIB, TickCollector
from mzt_tui.models import JobRecord, SheetState
from tests.ui.factories import NOW, busy_anomalies, busy_processes, busy_tick, quiet_tick

Series = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(collector: TickCollector) -> Series:
    """Every sample of one collection, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in collector.collect()
        for sample in family.samples
    }


def labelled(series: Series, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (sample, labels), value in series.items() if sample == name}


def test_before_any_tick_only_the_monitor_itself_is_exported() -> None:
    series = scrape(TickCollector(cpu_seconds=lambda: 1.5))
    assert series == {("mzt_ticks_total", ()): 0.0, ("mzt_monitor_cpu_seconds_total", ()): 1.5}


def test_per_sheet_sums_of_the_jobs_processes() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    series = scrape(collector)
    train = (("job", "train-model"), ("sheet", "3"))
    lint = (("job", "lint-repo"), ("sheet", "1"))
    assert labelled(series, "mzt_job_cpu_percent") == {train: 45.0 + 30.5 + 98.0, lint: 12.0}
    assert labelled(series, "mzt_job_rss_bytes")[train] == (820.0 + 400.0 + 1_536.0) * MIB
    assert labelled(series, "mzt_job_fds")[train] == 60 + 33 + 25
    assert labelled(series, "mzt_job_threads")[lint] == 6 + 1
    assert labelled(series, "mzt_job_gpu_memory_bytes")[train] == 2_048.0 * MIB
    assert labelled(series, "mzt_job_processes") == {train: 3, lint: 2}
    # The conductor and the machine's processes belong to no job: no series of theirs.
    assert all(dict(labels).get("job") for labels in labelled(series, "mzt_job_rss_bytes"))


def test_no_series_has_a_pid_label() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    series = scrape(collector)
    assert series
    for name, labels in series:
        assert "pid" not in dict(labels), name


def test_gpus_by_index_and_name_in_base_units() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    series = scrape(collector)
    gpu0 = (("gpu", "0"), ("name", "NVIDIA H100 80GB HBM3"))
    assert labelled(series, "mzt_gpu_utilization_percent")[gpu0] == 87.0
    assert labelled(series, "mzt_gpu_memory_used_bytes")[gpu0] == 40_960.0 * MIB
    assert labelled(series, "mzt_gpu_memory_total_bytes")[gpu0] == 81_559.0 * MIB
    assert labelled(series, "mzt_gpu_temperature_celsius")[gpu0] == 71.0
    assert labelled(series, "mzt_gpu_power_watts")[gpu0] == 512.0
    assert len(labelled(series, "mzt_gpu_temperature_celsius")) == 2


def test_the_monitors_own_cost() -> None:
    collector = TickCollector(cpu_seconds=lambda: 12.25)
    collector.update(busy_tick())
    series = scrape(collector)
    assert series[("mzt_monitor_cpu_seconds_total", ())] == 12.25
    assert series[("mzt_monitor_rss_bytes", ())] == 48.0 * MIB
    assert series[("mzt_monitor_cpu_percent", ())] == 0.8
    assert series[("mzt_monitor_tick_duration_seconds", ())] == 0.012
    assert series[("mzt_last_tick_timestamp_seconds", ())] == NOW
    assert series[("mzt_ticks_total", ())] == 1


def test_an_ended_sheets_series_are_gone_after_the_next_tick() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    lint = (("job", "lint-repo"), ("sheet", "1"))
    assert lint in labelled(scrape(collector), "mzt_job_rss_bytes")
    still_running = [p for p in busy_processes() if p.job_id != "lint-repo"]
    collector.update(quiet_tick(still_running, timestamp=NOW + 5.0))
    series = scrape(collector)
    for name in (
        "mzt_job_cpu_percent",
        "mzt_job_rss_bytes",
        "mzt_job_fds",
        "mzt_job_threads",
        "mzt_job_gpu_memory_bytes",
        "mzt_job_processes",
    ):
        sheets = labelled(series, name)
        assert lint not in sheets, name
        assert (("job", "train-model"), ("sheet", "3")) in sheets, name


def test_open_anomalies_by_job_and_type_and_the_count_opened() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    series = scrape(collector)
    spike = (("job", "train-model"), ("type", "memory_spike"))
    zombie = (("job", "lint-repo"), ("type", "zombie"))
    assert labelled(series, "mzt_anomalies_open") == {spike: 1, zombie: 1}
    assert labelled(series, "mzt_anomalies_total") == {spike: 1, zombie: 1}
    closed = tuple(
        a.model_copy(update={"ended_at": NOW + 5.0}) for a in busy_anomalies().opened[:1]
    )
    later = quiet_tick(busy_processes(), timestamp=NOW + 5.0)
    collector.update(_with(later, anomalies=AnomalyChanges(closed=closed)))
    series = scrape(collector)
    assert labelled(series, "mzt_anomalies_open") == {zombie: 1}
    assert labelled(series, "mzt_anomalies_total") == {spike: 1, zombie: 1}


def _with(tick: TickResult, **changes: object) -> TickResult:
    fields = {name: getattr(tick, name) for name in TickResult.__dataclass_fields__}
    fields.update(changes)
    return TickResult(**fields)


def _finish_lint_sheet(jobs: tuple[JobRecord, ...], status: str) -> tuple[JobRecord, ...]:
    def finish(job: JobRecord) -> JobRecord:
        if job.job_id != "lint-repo":
            return job
        sheets = dict(job.sheets)
        sheets[1] = SheetState(sheet_num=1, status=status, attempt_count=1)
        return job.model_copy(update={"sheets": sheets})

    return tuple(finish(job) for job in jobs)


def test_sheet_outcomes_count_what_ended_since_the_job_was_first_seen() -> None:
    collector = TickCollector()
    first = busy_tick()
    collector.update(first)
    # train-model's sheets 1 and 2 had ended before the monitor saw the job: not counted.
    assert labelled(scrape(collector), "mzt_sheet_outcomes_total") == {}
    ended = _with(first, jobs=_finish_lint_sheet(first.jobs, "failed"))
    collector.update(ended)
    collector.update(ended)  # the same attempt seen again counts once
    outcomes = labelled(scrape(collector), "mzt_sheet_outcomes_total")
    assert outcomes == {(("job", "lint-repo"), ("outcome", "failed")): 1}
    sheets = labelled(scrape(collector), "mzt_job_sheets")
    assert sheets[(("job", "lint-repo"), ("status", "failed"))] == 1
    assert sheets[(("job", "train-model"), ("status", "completed"))] == 1
    # docs-site ended two hours ago: none of its series are kept.
    assert not any(dict(labels)["job"] == "docs-site" for labels in sheets)


def test_a_finished_jobs_counters_go_once_its_grace_is_over() -> None:
    collector = TickCollector()
    first = busy_tick()
    collector.update(first)
    collector.update(_with(first, jobs=_finish_lint_sheet(first.jobs, "completed")))
    assert labelled(scrape(collector), "mzt_sheet_outcomes_total")

    def done(job: JobRecord) -> JobRecord:
        return job.model_copy(update={"status": "completed", "completed_at": NOW})

    finished = tuple(done(job) for job in _finish_lint_sheet(first.jobs, "completed"))
    later = quiet_tick([], timestamp=NOW + 60.0)
    collector.update(_with(later, jobs=finished))
    assert labelled(scrape(collector), "mzt_sheet_outcomes_total")  # within the grace
    much_later = quiet_tick([], timestamp=NOW + 3_600.0)
    collector.update(_with(much_later, jobs=finished))
    series = scrape(collector)
    assert labelled(series, "mzt_sheet_outcomes_total") == {}
    assert labelled(series, "mzt_anomalies_total") == {}
    assert labelled(series, "mzt_job_sheets") == {}


def test_every_family_has_help_text_and_units_in_its_name() -> None:
    collector = TickCollector()
    collector.update(busy_tick())
    families = list(collector.collect())
    assert len({family.name for family in families}) == len(families)
    for family in families:
        assert family.documentation.strip(), family.name
        assert family.name.startswith("mzt_"), family.name
    names = {family.name for family in families}
    assert {"mzt_job_rss_bytes", "mzt_gpu_temperature_celsius", "mzt_gpu_power_watts"} <= names
