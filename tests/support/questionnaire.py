"""Answers to the back-pain questionnaire that raise no flag, as a browser posts them step by step.

The screening steps come before the request is sent (the short path); the others follow on the pages the
confirmation links to ("help us prepare for your call").
"""

NO_RED_FLAGS = {
    "safety": {
        "saddle_numbness": "no",
        "urine_trouble": "no",
        "bladder_bowel_control": "no",
        "both_legs": "no",
        "leg_weakening": "no",
        "serious_fall": "no",
        "chest_pain": "no",
    },
    "health": {
        "age": "34",
        "fever": "no",
        "weight_loss": "no",
        "back_lump": "no",
        "rest_night_pain": "no",
        "cancer_history": "no",
        "weak_immune": "no",
        "long_term_steroids": "no",
        "injected_drugs": "no",
        "thoracic_pain": "no",
        "minor_trauma": "no",
        # "osteoporosis" (thin bones) is asked only after a small fall.
    },
    "where": {"pain_areas": ["lower_back_centre", "buttock_left"], "pain_feel": ["ache", "spasm"]},
    "when": {"duration": "under_1_week", "onset": "movement", "history": "same", "trend": "better"},
    "pain": {"pain_now": "4", "pain_worst": "7", "eases": ["heat", "gentle_movement"], "worsens": ["sitting"]},
    "daily_life": {"walking": "slower", "sleep": "hard_to_settle", "work_status": "retired"},
    "treatment": {"tried": ["rest"], "takes_medicines": "no", "has_conditions": "no", "goals": "Walk the dog again."},
}
STEPS = list(NO_RED_FLAGS)
SCREENING_STEPS = ["safety", "health"]
PREPARE_STEPS = [step for step in STEPS if step not in SCREENING_STEPS]


def step_data(answers: dict, shown=()) -> dict:
    data = {f"q-{key}": value for key, value in answers.items()}
    if shown:
        data["shown"] = list(shown)
    return data
