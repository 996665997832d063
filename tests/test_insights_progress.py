"""Progress bars show true rates and times: a stage's clock runs from its start to its last report,
work between stages is not counted, and a stage reported in one step shows no rate (issue 20)."""

from brandpulse.cli.main import _rate_progress, rate_text, stage_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_stage_has_its_own_true_elapsed_time_and_rate():
    clock = Clock()
    progress = _rate_progress("items", get_time=clock)
    step = stage_progress(progress, "items")
    step("import", 0, None)  # the demo's stages, as prepare_demo reports them
    clock.now += 1
    step("import", 1000, None)
    clock.now += 1
    step("import", 3000, None)
    clock.now += 0.5  # migrations, dataset: between stages
    step("analyze", 0, 3000)
    clock.now += 1
    step("analyze", 1500, 3000)  # analyze reports each batch
    clock.now += 1
    step("analyze", 1200, 3000)  # 300 were in unsupported languages: never reaches its total
    clock.now += 30  # triage and alerts: not the analysis's time, nor the influence's
    step("influence", 0, None)
    clock.now += 2
    step("influence", 9_985_984, None)
    clock.now += 5
    step("topics", 7, None)  # no start reported: one step tells no rate
    clock.now += 60  # the run goes on (users printed, dashboard started) after the last stage
    step.close()
    tasks = {task.description: task for task in progress.tasks}
    shown = {name: (task.finished_time, task.fields["rate"]) for name, task in tasks.items()}
    assert shown["import"] == (2.0, "1,500 items/s")
    assert shown["analyze"] == (2.0, "1,350 items/s")
    assert shown["influence"] == (2.0, "4,992,992 items/s")
    assert shown["topics"] == (0.0, "")
    assert all(task.finished for task in tasks.values())
    assert tasks["analyze"].completed == tasks["analyze"].total == 2700


def test_a_rate_needs_measured_time():
    assert rate_text(9_985_984, 1e-6, "items") == ""  # was "9985984 items/s" style nonsense
    assert rate_text(0, 3.0, "rows") == ""
    assert rate_text(5000, 2.0, "rows") == "2,500 rows/s"
