"""The free-text screen measured on labelled patient sentences (tests/data/, scored by tests/intake/redflag_corpus.py).

The targets of issue 23 and the design brief: every emergency flag caught in every sentence that states it, every
urgent flag in at least 98 %, and at least 95 % of sentences that state no red flag now (harmless, negated, past,
someone else's, a worry) raise nothing. bench/redflags.py prints the same figures per flag and per context.
"""

import random
from collections import Counter, defaultdict

import pytest

from intake.definitions import BACK_PAIN, definition_current
from intake.screening import screening_findings, screening_text
from tests.intake.redflag_corpus import (
    CONTEXTS,
    CORPUS,
    HOLDOUT,
    HOLDOUT2,
    HOLDOUT3,
    corpus_load,
    corpus_screen,
    flag_tiers,
)

FILES = [CORPUS, HOLDOUT, HOLDOUT2, HOLDOUT3]


@pytest.fixture(scope="module")
def screened():
    return {path.name: corpus_screen(corpus_load(path)) for path in FILES}


def _by_flag(items):
    found = defaultdict(list)
    for item in items:
        if item.expected:
            found[item.expected].append(item)
    return found


def test_the_corpus_holds_400_labelled_sentences_over_every_flag_and_context():
    sentences = corpus_load(CORPUS)
    assert len(sentences) >= 400
    assert len({sentence.text for sentence in sentences}) == len(sentences)
    tiers = flag_tiers()
    assert {sentence.flag for sentence in sentences} - {"none"} <= set(tiers)
    # Every emergency and urgent question of the definition is stated somewhere, affirmed.
    assert {sentence.flag for sentence in sentences if sentence.context == "affirmed"} >= {
        flag for flag in tiers if flag not in ("osteoporosis",)
    }
    contexts = Counter(sentence.context for sentence in sentences if sentence.flag != "none")
    assert set(contexts) == set(CONTEXTS)
    assert min(contexts[context] for context in ("negated", "past", "other", "hypothetical")) >= 18
    assert sum(sentence.flag == "none" for sentence in sentences) >= 150


@pytest.mark.parametrize("name", [path.name for path in FILES])
def test_every_emergency_flag_is_caught_wherever_it_is_stated(screened, name):
    tiers = flag_tiers()
    missed = [
        (item.sentence.flag, item.sentence.text)
        for item in screened[name]
        if item.expected and tiers[item.expected] == "emergency" and not item.caught
    ]
    assert missed == []


@pytest.mark.parametrize("name", [path.name for path in FILES])
def test_each_urgent_flag_is_caught_in_at_least_98_percent_of_the_sentences_that_state_it(screened, name):
    tiers = flag_tiers()
    for flag, items in _by_flag(screened[name]).items():
        if tiers[flag] != "urgent":
            continue
        caught = sum(item.caught for item in items)
        assert caught >= 0.98 * len(items), (flag, [item.sentence.text for item in items if not item.caught])


@pytest.mark.parametrize("name", [path.name for path in FILES])
def test_at_least_95_percent_of_sentences_stating_no_red_flag_now_raise_nothing(screened, name):
    quiet = [item for item in screened[name] if not item.expected]
    alarms = [(item.sentence.context, item.sentence.text, item.found) for item in quiet if item.found]
    assert len(alarms) <= 0.05 * len(quiet), alarms
    # And each context on its own, so that one kind of mistake cannot hide behind many harmless sentences.
    by_context = defaultdict(list)
    for item in quiet:
        by_context[item.sentence.context if item.sentence.flag != "none" else "harmless"].append(item)
    for context, items in by_context.items():
        raised = sum(bool(item.found) for item in items)
        assert raised <= max(1, 0.1 * len(items)), (context, [item.sentence.text for item in items if item.found])


def test_a_split_clause_a_slip_and_an_exception_that_is_itself_negated_are_read():
    definition = definition_current(BACK_PAIN)
    # "and" joins the words of one statement, but starts a new one before "my".
    assert screening_text(definition=definition, text="numb in my arms and feet") == ["both_legs"]
    assert screening_text(definition=definition, text="no fever and my legs are numb") == ["both_legs"]
    # Two slips in one sentence; a slip in a short word.
    assert screening_text(definition=definition, text="tinglin round my botom") == ["saddle_numbness"]
    assert screening_text(definition=definition, text="numb leggs") == ["both_legs"]
    # A common word one letter from a lexicon word is never a slip.
    assert screening_text(definition=definition, text="lets see how it goes with fewer painkillers") == []
    # "without trying" is not the exception "trying to".
    assert screening_text(definition=definition, text="I have lost weight without trying to") == ["weight_loss"]
    assert screening_text(definition=definition, text="I am trying to lose weight") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I had pins and needles in both legs but it cleared up years ago", []),
        ("my legs went numb once in 2015 and it went away after a few minutes", []),
        ("I had numb legs years ago and now it is back", ["both_legs"]),
        ("my dad, who is 80, had cancer", []),
        ("there is a lot of cancer in my family", []),
        ("I had cancer years ago", ["cancer_history"]),
        ("I'm scared it could be cancer", []),
        ("what if I lose control of my bladder", []),
        ("I'm not sure if my legs are numb", ["both_legs"]),
        ("my wife says her legs feel dead", ["both_legs"]),
        ("my husband is on methotrexate so I have to be careful", []),
    ],
)
def test_context_past_and_gone_someone_else_a_worry_and_a_carer(text, expected):
    assert screening_text(definition=definition_current(BACK_PAIN), text=text) == expected


def test_a_small_fall_counts_only_with_a_fracture_risk_answered_or_written():
    definition = definition_current(BACK_PAIN)
    assert screening_text(definition=definition, text="I slipped on the ice") == []
    assert screening_text(definition=definition, text="I'm 82 and slipped on the ice") == ["minor_trauma"]
    assert screening_text(definition=definition, text="I slipped on the ice", values={"age": 75}) == ["minor_trauma"]
    assert screening_text(definition=definition, text="I slipped on the ice", values={"osteoporosis": True}) == [
        "minor_trauma"
    ]
    assert screening_text(definition=definition, text="thin bones and I tripped") == ["minor_trauma", "osteoporosis"]
    # Thin bones alone are no red flag.
    assert screening_text(definition=definition, text="I have osteoporosis") == []


def test_long_texts_of_any_script_and_emoji_never_fail():
    definition = definition_current(BACK_PAIN)
    rng = random.Random(23)
    alphabet = "abc xyz numb legs \u0301\u200b\u202e\ufeff😀🦴的一是ابت\n.,!?"
    for _ in range(30):
        text = "".join(rng.choice(alphabet) for _ in range(2000))
        assert isinstance(screening_findings(definition=definition, values={}, other_text={"reason": text}), list)


# Everyday wordings a reviewer wrote against the first version of the context rules: a worry about what is here, a
# past back pain beside a new symptom, a denial before "and", an exclamation, an animal or a child on the way.
@pytest.mark.parametrize(
    ("text", "question_id"),
    [
        ("Back pain since last year, can't feel my bottom when I wipe", "saddle_numbness"),
        ("Ive had back pain in the past but cant feel my bum", "saddle_numbness"),
        ("I hurt my back 3 months ago and both legs are numb", "both_legs"),
        ("Hurt my back lifting 2 months ago and I've wet myself twice", "bladder_bowel_control"),
        ("need this sorted, I've wet myself twice", "bladder_bowel_control"),
        ("I passed out and wet myself", "bladder_bowel_control"),
        ("My legs gave way when I stood up", "both_legs"),
        ("pain at the bottom of my back and my bum is numb", "saddle_numbness"),
        ("I have arthritis in my hands and now both legs are numb", "both_legs"),
        ("I have a fever and chills, even with the heating on", "fever"),
        ("Lost 10kg without trying, I need to know why", "weight_loss"),
        ("I am scared because I can't feel my bottom", "saddle_numbness"),
        ("Really worried my legs have gone numb and weak", "both_legs"),
        ("Is it normal that I can't feel my bum?", "saddle_numbness"),
        ("I mean I can't feel my bum", "saddle_numbness"),
        ("I googled it because I wet myself", "bladder_bowel_control"),
        ("If I sit down my bum goes numb", "saddle_numbness"),
        ("No fever and can't feel my bum", "saddle_numbness"),
        ("No fever and wet myself last night", "bladder_bowel_control"),
        ("Haven't slept and both legs numb", "both_legs"),
        ("Not eating much and lost 2 stone", "weight_loss"),
        ("the pain runs in both legs and they are numb", "both_legs"),
        ("Took the dog out and both legs gave way", "both_legs"),
        ("Lifting my toddler both legs gave way", "both_legs"),
        ("Someone help can't feel my legs", "both_legs"),
        ("Oh no I wet myself", "bladder_bowel_control"),
        ("Don't laugh I wet myself", "bladder_bowel_control"),
        ("GP didn't listen my legs are still numb", "both_legs"),
        ("legs numb no pain", "both_legs"),
        ("I've had no sleep because my legs are numb", "both_legs"),
        ("İstanbul trip. No fever, legs numb", "both_legs"),
        # Tried after the figures were final, as a patient might write them: both were missed, then added.
        ("both my legs went from under me on the stairs", "both_legs"),
        ("feel like im sitting on cotton wool", "saddle_numbness"),
    ],
)
def test_everyday_wordings_around_a_red_flag_do_not_hide_it(text, question_id):
    assert question_id in screening_text(definition=definition_current(BACK_PAIN), text=text)


@pytest.mark.parametrize(
    "text",
    [
        "the physio said to come back if my foot starts dragging",
        "what happens if I can't feel the toilet paper, is that an emergency?",
        "I'm worried I'll fall down the stairs with my back like this",
        "I was in a car accident in 2009, no problems since then",
        "my butt went numb on the bleachers, fine once I stood up",
        "my mate came off the scaffolding and broke his back, I've just got a sore back from covering his shifts",
    ],
)
def test_a_condition_a_worry_an_old_year_or_someone_elses_story_raises_nothing(text):
    assert screening_text(definition=definition_current(BACK_PAIN), text=text) == []
