"""The flow store: the patient's answers so far, kept in the session per flow, forgotten when old."""

import time
from types import SimpleNamespace

import pytest

from callbacks.web.flow import (
    FLOW_MAX_AGE_SECONDS,
    MAX_FLOWS,
    SESSION_FLOWS_KEY,
    flow_drop,
    flow_load,
    flow_save,
    flows_stored,
)
from intake.definitions import BACK_PAIN, definition_current
from intake.flow import Progress


def session_request(session=None):
    return SimpleNamespace(session={} if session is None else session)


@pytest.fixture
def definition():
    return definition_current(BACK_PAIN)


def test_a_saved_flow_loads_with_the_definition_version_it_started_on(definition):
    request = session_request()
    progress = Progress.start(definition)
    progress.answers["age"] = 41
    flow_save(request, "abc", progress)
    loaded_definition, loaded = flow_load(request, "abc")
    assert (loaded_definition.slug, loaded_definition.version) == (definition.slug, definition.version)
    assert loaded.answers["age"] == 41
    assert flow_load(request, "other") is None


def test_a_dropped_flow_is_gone_and_others_stay(definition):
    request = session_request()
    flow_save(request, "one", Progress.start(definition))
    flow_save(request, "two", Progress.start(definition))
    flow_drop(request, "one")
    assert flow_load(request, "one") is None
    assert flow_load(request, "two") is not None


def test_an_old_flow_is_forgotten(definition, monkeypatch):
    request = session_request()
    flow_save(request, "old", Progress.start(definition))
    later = time.time() + FLOW_MAX_AGE_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert flow_load(request, "old") is None


def test_only_the_newest_flows_are_kept(definition, monkeypatch):
    request = session_request()
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    for number in range(MAX_FLOWS + 2):
        clock[0] += 1
        progress = Progress.start(definition)
        flow_save(request, f"flow{number}", progress)
    kept = set(flows_stored(request))
    assert kept == {f"flow{number}" for number in range(2, MAX_FLOWS + 2)}


@pytest.mark.parametrize("stored", [None, "not a dict", ["a", "list"]])
def test_a_damaged_session_entry_reads_as_no_flows(stored):
    request = session_request({SESSION_FLOWS_KEY: stored})
    assert flows_stored(request) == {}
    assert flow_load(request, "abc") is None


def test_a_flow_of_an_unknown_definition_version_does_not_load(definition):
    request = session_request()
    flow_save(request, "abc", Progress.start(definition))
    request.session[SESSION_FLOWS_KEY]["abc"]["version"] = 999
    assert flow_load(request, "abc") is None
