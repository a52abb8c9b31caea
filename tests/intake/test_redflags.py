"""Red flags in free text and in contradicting answers (intake/screening/), and how triage treats them.

The tables are written from what patients write, not read from the lexicon file: a phrase removed from the
lexicon by mistake fails here.
"""

import copy
from pathlib import Path

import pytest
import yaml

from intake.definitions import BACK_PAIN, Tier, definition_current
from intake.screening import screening_findings, screening_rechecks
from intake.screening.lexicon import LexiconError, lexicon_for_definition, lexicon_load, red_flag_rules
from intake.screening.spelling import damerau_levenshtein
from intake.screening.text import matcher_for
from intake.triage import triage_compute
from tests.intake.conftest import ROUTINE_ANSWERS

DEFINITION = definition_current(BACK_PAIN)
LEXICON = lexicon_for_definition(DEFINITION)
MATCHER = matcher_for(LEXICON)

# (what the patient wrote, the safety question it must point at)
MUST_MATCH = [
    ("my legs keep giving way", "both_legs"),
    ("My legs feel like jelly", "both_legs"),
    ("numbness in both legs", "both_legs"),
    ("pins and needles in both legs", "both_legs"),
    ("I can not feel my legs", "both_legs"),
    ("I can't feel my legs properly", "both_legs"),
    ("pain down both legs", "both_legs"),
    ("sciatica on both sides", "both_legs"),
    ("No fever but my legs are numb", "both_legs"),
    ("I'm not sure if my legs are numb", "both_legs"),
    ("I had tingling in both legs years ago but now it is back", "both_legs"),
    ("my bum is numb", "saddle_numbness"),
    ("numb around my private parts", "saddle_numbness"),
    ("tingling in my bum cheeks", "saddle_numbness"),
    ("cant feel myself when I wipe", "saddle_numbness"),
    ("I can't pee properly", "urine_trouble"),
    ("I cant feel when I need to wee", "urine_trouble"),
    ("I wet myself yesterday", "bladder_bowel_control"),
    ("I've been wetting myself since Tuesday", "bladder_bowel_control"),
    ("I can't control my bowels", "bladder_bowel_control"),
    ("I've become incontinent", "bladder_bowel_control"),
    ("my right leg keeps giving way", "leg_weakening"),
    ("my foot is dragging", "leg_weakening"),
    ("I fell off a ladder at work", "serious_fall"),
    ("hit by a car last month", "serious_fall"),
    ("I have chest pain", "chest_pain"),
    ("had a fever last week", "fever"),
    ("hot and shivery all day", "fever"),
    ("sweating at night, soaked sheets", "fever"),
    ("I'm not sure if it's a fever", "fever"),
    ("lost 2 stone without trying", "weight_loss"),
    ("my clothes are hanging off me", "weight_loss"),
    ("there's a lump on my spine", "back_lump"),
    ("it is worse at night", "rest_night_pain"),
    ("I had breast cancer in 2015, all clear now", "cancer_history"),
    ("had cancer 10 years ago", "cancer_history"),
    ("chemotherapy last year", "cancer_history"),
    ("I am on methotrexate for arthritis", "weak_immune"),
    ("I take prednisolone every day", "long_term_steroids"),
    ("I used heroin years ago", "injected_drugs"),
    # Told of family now, in the third person: a carer may be typing for the patient (DESIGN, triage rules).
    ("my dad has a fever", "fever"),
    ("my husband says his legs feel dead", "both_legs"),
    # Rules added in back-pain v3 (issue 23).
    ("the pain is between my shoulder blades", "thoracic_pain"),
    ("I'm 82 and slipped on the step last week", "minor_trauma"),
    ("I have osteoporosis and tripped over the cat", "osteoporosis"),
    # Spelling slips.
    ("numbnes in both legs", "both_legs"),
    ("tinglng in my groin", "saddle_numbness"),
    ("I have a feever", "fever"),
    ("history of canser", "cancer_history"),
    ("incontinance", "bladder_bowel_control"),
    ("predisolone daily", "long_term_steroids"),
]

# Text that must not point at any safety question.
MUST_NOT_MATCH = [
    # Negations.
    "I don't have a fever",
    "no numbness",
    "No numbness or tingling in my legs",
    "I have never had cancer",
    "never had any numbness in my bottom",
    "I have had no problems with my bladder",
    "I don't wet myself",
    "fever: no",
    "I haven't lost weight",
    "there is no lump on my back",
    # Other body parts.
    "numbness in my fingers",
    "numbness in both hands",
    "pins and needles in my arms",
    "my left leg is a bit numb",
    "tingling in my left foot",
    # Past history, for a symptom that must be new.
    "I had tingling in both legs years ago",
    "I wet myself as a child",
    # Someone else: a history, or told in the past.
    "my mum had breast cancer",
    "my dad had a fever last week",
    # Other meanings, and real words that are not slips.
    "I had to cancel work",
    "I bought ibuprofen from the chemist",
    "a number of times my bum hurt",
    "I had a steroid injection",
    "My steroid inhaler",
    "I inject insulin",
    "trying to lose weight",
    "I tried hot and cold packs",
    "I never know what to do",
    "My back hurts when I bend",
    "",
]


@pytest.mark.parametrize(("text", "question_id"), MUST_MATCH)
def test_phrases_that_must_match_point_at_their_safety_question(text, question_id):
    assert question_id in [match.question_id for match in MATCHER.groups_in(text)]


@pytest.mark.parametrize("text", MUST_NOT_MATCH)
def test_phrases_that_must_not_match_point_at_nothing(text):
    assert MATCHER.groups_in(text) == []


def test_every_group_of_the_lexicon_has_an_example_that_must_match():
    assert {group.question for group in LEXICON.groups} == {question_id for _, question_id in MUST_MATCH}


def test_a_phrase_late_in_a_long_unpunctuated_text_is_still_found():
    text = "my back is stiff and " + "it is sore " * 60 + "I feel numb " * 20 + "around my bum now"
    assert [match.question_id for match in MATCHER.groups_in(text)] == ["saddle_numbness"]


def test_the_quote_is_the_clause_the_patient_wrote():
    [match] = MATCHER.groups_in("The pain is bad. And my legs keep giving way!")
    assert match.quote == "my legs keep giving way"


def test_damerau_levenshtein_counts_a_swap_as_one_edit():
    assert damerau_levenshtein("tingling", "tinlging") == 1
    assert damerau_levenshtein("fever", "fever") == 0
    assert damerau_levenshtein("cancer", "cancel") == 1


def test_every_emergency_and_urgent_rule_has_phrases_in_the_lexicon():
    covered = {group.question for group in LEXICON.groups}
    for rule in red_flag_rules(DEFINITION):
        assert covered & set(_subjects(rule)), rule.id


def _subjects(rule):
    from intake.screening.lexicon import rule_questions

    return rule_questions(rule)


def test_the_lexicon_names_its_sources_and_version():
    assert LEXICON.definition == DEFINITION.key and LEXICON.version >= 1
    assert all(group.sources for group in LEXICON.groups)
    assert {"nice_ng59", "girft_ces"} <= {source.id for source in LEXICON.sources}


# Triage ------------------------------------------------------------------------------------------------------


def routine(**answers):
    return {**ROUTINE_ANSWERS, **answers}


def test_a_cauda_equina_phrase_in_free_text_is_a_possible_red_flag_at_urgent_not_emergency():
    result = triage_compute(definition=DEFINITION, answers=routine(goals="walk again", anything_else="I wet myself"))
    assert result.tier is Tier.URGENT and result.priority == 2
    [reason] = result.reasons
    assert reason.rule_id == "possible_red_flag.bladder_bowel_control"
    assert "I wet myself" in reason.text and "bladder or bowel control" in reason.text
    assert "answered no" in reason.text
    assert reason.evidence == (("anything_else", "I wet myself"),)
    assert f"lexicon {DEFINITION.key} version {LEXICON.version}" in reason.source


def test_free_text_never_lowers_a_tier_and_a_yes_needs_no_second_reason():
    result = triage_compute(definition=DEFINITION, answers=routine(both_legs=True, anything_else="my legs are numb"))
    assert result.tier is Tier.EMERGENCY
    assert [reason.rule_id for reason in result.reasons] == ["both_legs"]


def test_the_request_reason_is_screened_too():
    result = triage_compute(definition=DEFINITION, answers=routine(), other_text={"reason": "I've been peeing myself"})
    assert result.tier is Tier.URGENT
    assert result.reasons[0].evidence == (("reason", "I've been peeing myself"),)


@pytest.mark.parametrize(
    ("areas", "feel", "question_id"),
    [
        (["thigh_left", "lower_leg_right"], [], "both_legs"),
        (["foot_left", "foot_right"], [], "both_legs"),
        (["groin"], ["numb"], "saddle_numbness"),
        (["buttock_right"], ["pins_needles"], "saddle_numbness"),
    ],
)
def test_body_diagram_and_pain_descriptions_that_contradict_a_no_are_possible_red_flags(areas, feel, question_id):
    answers = routine(pain_areas=["lower_back_centre", *areas], pain_feel=feel)
    result = triage_compute(definition=DEFINITION, answers=answers)
    assert result.tier is Tier.URGENT
    assert [reason.rule_id for reason in result.reasons] == [f"possible_red_flag.{question_id}"]
    assert "on the body diagram" in result.reasons[0].text and "answered no" in result.reasons[0].text


@pytest.mark.parametrize(
    ("areas", "feel"),
    [(["thigh_left", "foot_left"], ["numb"]), (["knee_left", "knee_right"], []), (["groin"], ["ache"])],
)
def test_one_leg_or_no_numbness_is_no_contradiction(areas, feel):
    result = triage_compute(definition=DEFINITION, answers=routine(pain_areas=areas, pain_feel=feel))
    assert result.tier is Tier.ROUTINE


def test_a_recheck_is_asked_once_per_question_quoting_the_first_finding():
    values = routine(pain_areas=["thigh_left", "thigh_right"], anything_else="my legs keep giving way")
    [recheck] = screening_rechecks(definition=DEFINITION, values=values)
    assert recheck.question_id == "both_legs"
    assert recheck.prompt == "You wrote \u2018my legs keep giving way\u2019."
    assert "new or worse in the last two weeks" in recheck.question
    assert screening_rechecks(definition=DEFINITION, values=values, rechecks={"both_legs": False}) == []


def test_asked_again_no_still_leaves_the_possible_red_flag_and_yes_follows_the_rule():
    said_no = triage_compute(
        definition=DEFINITION, answers=routine(anything_else="legs keep giving way"), rechecks={"both_legs": False}
    )
    assert said_no.tier is Tier.URGENT
    assert "asked again: no" in said_no.reasons[0].text
    said_yes = triage_compute(
        definition=DEFINITION,
        answers=routine(both_legs=True, anything_else="legs keep giving way"),
        rechecks={"both_legs": True},
    )
    assert said_yes.tier is Tier.EMERGENCY
    assert [reason.rule_id for reason in said_yes.reasons] == ["both_legs", "possible_red_flag.both_legs"]
    assert "asked again: yes" in said_yes.reasons[1].text


def test_findings_without_a_lexicon_are_none(made_up):
    assert screening_findings(definition=made_up, values={"item_a": "my legs are numb"}) == []


# The lexicon file's checks -------------------------------------------------------------------------------------

V = f"v{DEFINITION.version}"
LEXICON_FILE = Path(DEFINITION.path).with_name(f"{V}.lexicon.yaml")


URINE = len(LEXICON.group("urine_trouble").phrases)  # the index of a phrase added to the group


def _broken(tmp_path, change):
    raw = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / f"{V}.lexicon.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda raw: raw.pop("version"), "", "missing required field 'version'"),
        (lambda raw: raw["groups"][3].update(question="pain_now"), "groups[3].question", "not a yes/no question"),
        (lambda raw: raw["groups"][3].update(question="age"), "groups[3].question", "not a yes/no question"),
        (lambda raw: raw["groups"].pop(1), "groups", "the emergency rule 'urine_trouble' has no group of phrases"),
        (lambda raw: raw["groups"][1]["phrases"].append("can't wee"), f"groups[1].phrases[{URINE}]", "apostrophes"),
        (lambda raw: raw["groups"][1]["phrases"].append([["wee"], "pee"]), f"groups[1].phrases[{URINE}]", "list of"),
        (lambda raw: raw["groups"][1].update(sources=["nowhere"]), "groups[1].sources[0]", "unknown source 'nowhere'"),
        (lambda raw: raw["groups"][1].update(colour="red"), "groups[1].colour", "unknown field (allowed: history"),
        (lambda raw: raw.update(definition="back-pain/v99"), "definition", f"belongs to {DEFINITION.key}"),
        (lambda raw: raw["groups"][0].update(question="pain_now"), "contradictions[2].question", "no group"),
        (
            lambda raw: raw["contradictions"][0]["marked"][0]["any_of"].append("left_ear"),
            "contradictions[0].marked[0].any_of[3]",
            "'left_ear' is not an answer of 'pain_areas'",
        ),
    ],
)
def test_a_broken_lexicon_fails_with_the_field_and_the_problem(tmp_path, change, where, problem):
    path = _broken(tmp_path, lambda raw: change(raw))
    with pytest.raises(LexiconError) as caught:
        lexicon_load(path, DEFINITION)
    problems = [(caught.value.where, caught.value.problem), *caught.value.others]
    assert any(found_where == where and problem in found for found_where, found in problems), problems
    assert str(path) in str(caught.value)


def test_the_shipped_lexicon_loads_as_it_is(tmp_path):
    path = _broken(tmp_path, lambda raw: copy.deepcopy(raw))
    assert lexicon_load(path, DEFINITION) == LEXICON


def test_manage_py_check_reports_a_broken_lexicon(tmp_path, settings):
    from intake.checks import definitions_check

    folder = tmp_path / "back-pain"
    folder.mkdir()
    (folder / f"{V}.yaml").write_text(Path(DEFINITION.path).read_text(encoding="utf-8"), encoding="utf-8")
    broken = _broken(tmp_path, lambda raw: raw["groups"][0].update(recheck=""))
    broken.rename(folder / f"{V}.lexicon.yaml")
    settings.INTAKE_DEFINITION_DIRS = [tmp_path]
    [error] = definitions_check()
    assert error.id == "intake.E003"
    assert f"{V}.lexicon.yaml: groups[0].recheck" in error.msg


@pytest.mark.parametrize(
    ("words", "question_id", "denied_tier"),
    [
        ("my legs keep giving way", "both_legs", Tier.URGENT),  # an emergency question: a clinician the same day
        ("I keep wetting myself", "bladder_bowel_control", Tier.URGENT),
        ("I have been hot and shivery", "fever", Tier.REVIEW),  # an urgent question: a clinician before booking
        ("I lost a stone", "weight_loss", Tier.REVIEW),
    ],
)
def test_a_no_when_asked_again_keeps_a_clinician_looking_and_gives_no_advice(words, question_id, denied_tier):
    answers = routine(anything_else=words)
    # Not yet asked again: staff see it at urgent, but the patient is asked before any advice.
    pending = triage_compute(definition=DEFINITION, answers=answers)
    assert (pending.tier, pending.advice_tier) == (Tier.URGENT, Tier.ROUTINE)
    # "No": the quote stays in front of a clinician, with the answer beside it; no advice for the patient.
    said_no = triage_compute(definition=DEFINITION, answers=answers, rechecks={question_id: False})
    assert (said_no.tier, said_no.advice_tier) == (denied_tier, Tier.ROUTINE)
    [reason] = said_no.reasons
    assert reason.rule_id == f"possible_red_flag.{question_id}" and "asked again: no" in reason.text
    assert words in reason.text and reason.advise is False
    # "Yes" is a yes to the safety question: its own rule, and its advice.
    said_yes = triage_compute(
        definition=DEFINITION, answers={**answers, question_id: True}, rechecks={question_id: True}
    )
    assert said_yes.advice_tier is said_yes.tier and said_yes.tier.rank >= Tier.URGENT.rank


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({"extends": f"back-pain/v{DEFINITION.version}", "groups": 5}, "must be a list of groups"),
        ({"extends": "back-pain/v99"}, "is not another lexicon beside this one"),
        ({"extends": "back-pain/v1"}, "is not another lexicon beside this one"),  # itself
    ],
)
def test_a_lexicon_that_extends_another_badly_is_a_clear_error(tmp_path, content, problem):
    folder = tmp_path / "back-pain"
    folder.mkdir()
    (folder / LEXICON_FILE.name).write_text(LEXICON_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "v1.lexicon.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    with pytest.raises(LexiconError, match=problem):
        lexicon_load(path, DEFINITION)
