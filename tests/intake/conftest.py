from pathlib import Path

import pytest

from intake.definitions import BACK_PAIN, definition_current, definition_load

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken"
MADE_UP = FIXTURES / "definitions" / "made-up-instrument" / "v1.yaml"

# Every question of back-pain v1 answered with no red flag: a routine patient.
ROUTINE_ANSWERS = {
    "saddle_numbness": False,
    "urine_trouble": False,
    "bladder_bowel_control": False,
    "both_legs": False,
    "leg_weakening": False,
    "serious_fall": False,
    "chest_pain": False,
    "age": 34,
    "fever": False,
    "weight_loss": False,
    "back_lump": False,
    "rest_night_pain": False,
    "cancer_history": False,
    "weak_immune": False,
    "long_term_steroids": False,
    "injected_drugs": False,
    "thoracic_pain": False,
    "minor_trauma": False,
    "pain_areas": ["lower_back_centre"],
    "duration": "under_1_week",
    "onset": "movement",
    "history": "same",
    "trend": "better",
    "pain_now": 4,
    "pain_worst": 6,
    "walking": "slower",
    "sleep": "no_effect",
    "work_status": "working",
    "work_effect": "harder",
    "takes_medicines": False,
    "has_conditions": False,
}
# ("Thin bones" is asked only after a small fall.) The same patient for back-pain v1 and v2, which lack v3's
# questions (thoracic pain, a small fall, thin bones).
V3_QUESTIONS = ("thoracic_pain", "minor_trauma", "osteoporosis")
ROUTINE_ANSWERS_V2 = {key: value for key, value in ROUTINE_ANSWERS.items() if key not in V3_QUESTIONS}


@pytest.fixture
def back_pain():
    return definition_current(BACK_PAIN)


@pytest.fixture
def made_up():
    return definition_load(MADE_UP)
