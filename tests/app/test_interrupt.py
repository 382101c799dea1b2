"""Interrupting a training (Stop, a page switch, a closed tab) keeps what was learned and
frees the training slot: Streamlit ends an interrupted run by raising StopException (or a
rerun exception) inside the script, wherever it is, and the runner's cleanup must hold."""

from streamlit.testing.v1 import AppTest


def script(raise_at: int) -> None:
    from types import SimpleNamespace

    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from ui import runner

    def events():
        for i in range(1, 6):
            yield SimpleNamespace(step=i, model=f"model after step {i}")
            if i == raise_at:
                raise StopException()  # what Streamlit raises to end an interrupted run

    runner.train("it_run", events, total_steps=5, draw=lambda run: None,
                 result=lambda event: event.model)


def test_an_interrupted_training_keeps_its_model_and_frees_its_slot():
    from ui import runner

    at = AppTest.from_function(script, kwargs={"raise_at": 3}, default_timeout=60)
    at.run()
    run = at.session_state["it_run"]
    assert run.result == "model after step 3" and run.step == 3
    assert run.status == "stopped"
    assert runner.training_slots().running == 0 and runner.training_slots().waiting == 0


def test_a_finished_training_frees_its_slot_too():
    from ui import runner

    at = AppTest.from_function(script, kwargs={"raise_at": 99}, default_timeout=60)
    at.run()
    assert at.session_state["it_run"].status == "done"
    assert at.session_state["it_run"].result == "model after step 5"
    assert runner.training_slots().running == 0
