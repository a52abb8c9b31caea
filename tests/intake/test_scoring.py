"""The scoring machinery on a made-up instrument defined as data (tests/intake/fixtures/definitions/...).

Instruments are scored by `triage_compute` (through `intake.scoring.instrument_score`), so these tests read the
scores it returns: the path every stored response takes.
"""

import pytest

from intake.definitions import Tier
from intake.triage import triage_compute

# Items a-d: yes = 1 point. Item e: "some" or "lots" = 1 point. Item f: its 0-4 value. Worry = c + d + e.
LOW = {
    "alarm": False,
    "item_a": False,
    "item_b": False,
    "item_c": False,
    "item_d": False,
    "item_e": "none",
    "item_f": 0,
}


def scores(made_up, answers):
    return triage_compute(definition=made_up, answers=answers).scores


def score(made_up, **answers):
    [result] = scores(made_up, {**LOW, **answers})
    return result


def test_sums_and_subscales_follow_the_points_in_the_file(made_up):
    result = score(made_up, item_a=True, item_c=True, item_e="lots", item_f=3)
    assert result.complete
    assert result.scores == {"total": 1 + 1 + 1 + 3, "worry": 1 + 1}
    assert result.missing == ()


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ({}, "low"),
        ({"item_f": 3}, "low"),
        # Total reaches 4: medium.
        ({"item_f": 4}, "medium"),
        ({"item_a": True, "item_b": True, "item_f": 2}, "medium"),
        # Worry subscale reaches 3: high, even though the total alone would also be medium.
        ({"item_c": True, "item_d": True, "item_e": "some"}, "high"),
        ({"item_c": True, "item_d": True, "item_e": "little", "item_f": 4}, "medium"),
        ({"item_c": True, "item_d": True}, "low"),
    ],
)
def test_thresholds_pick_the_first_matching_band(made_up, answers, band):
    result = score(made_up, **answers)
    assert result.band_id == band
    assert result.band_label.endswith("(made up)")


def test_one_missing_item_is_allowed_two_make_the_instrument_incomplete(made_up):
    one_missing = {**LOW, "item_f": 4}
    del one_missing["item_a"]
    [result] = scores(made_up, one_missing)
    assert (result.complete, result.band_id, result.missing) == (True, "medium", ("item_a",))

    two_missing = dict(one_missing)
    del two_missing["item_b"]
    [result] = scores(made_up, two_missing)
    assert (result.complete, result.band_id, result.scores) == (False, None, {})
    assert result.missing == ("item_a", "item_b")


def test_an_out_of_range_number_counts_as_missing_not_as_points(made_up):
    result = score(made_up, item_f=40)
    assert "item_f" in result.missing


def test_a_band_can_raise_the_tier(made_up):
    result = triage_compute(definition=made_up, answers={**LOW, "item_c": True, "item_d": True, "item_e": "some"})
    assert result.tier is Tier.REVIEW
    [reason] = result.reasons
    assert reason.rule_id == "made_up_tool.high"
    assert reason.source == "Invented for tests"
    assert dict(reason.evidence)["worry"] == 3


@pytest.mark.parametrize("items", [{}, {"item_c": True, "item_d": True, "item_e": "some"}, {"item_f": 4}])
def test_no_band_ever_lowers_a_red_flag(made_up, items):
    result = triage_compute(definition=made_up, answers={**LOW, **items, "alarm": True})
    assert result.tier is Tier.EMERGENCY
    assert result.reasons[0].rule_id == "alarm"


def test_scores_are_stored_with_the_response(db, made_up):
    from intake.services import questionnaire_response_create

    response = questionnaire_response_create(definition=made_up, answers={**LOW, "item_f": 4})
    [stored] = response.scores
    assert stored["instrument"] == "made_up_tool"
    assert stored["band"] == "medium"
    assert stored["scores"] == {"total": 4, "worry": 0}


def test_garbage_answers_never_break_scoring(made_up):
    answers = {"item_a": {"x": 1}, "item_e": ["lots", "lots"], "item_f": float("nan"), "alarm": b"yes"}
    [result] = scores(made_up, answers)
    assert not result.complete
