"""Together, the published articles cover every topic the issue lists, and carry no marketing."""

import pytest

from clinic.models import Article

pytestmark = pytest.mark.django_db

# topic: words a patient looking for that topic would expect to find (each must appear somewhere).
TOPICS = {
    "what a spasm is and feels like": ["spasm", "feels like", "tight"],
    "causes": [
        "strain",
        "overuse",
        "posture",
        "sitting",
        "dehydrat",
        "electrolyte",
        "disc",
        "arthritis",
        "stenosis",
        "sciatica",
        "stress",
    ],
    "immediate relief": ["bed rest", "heat", "cold", "20 minutes", "gentle movement", "ibuprofen", "paracetamol"],
    "hydration": ["water", "fluids"],
    "stretches": ["child's pose", "bridge", "knee-to-chest", "walking", "stairs", "breathing"],
    "dosage of each stretch": ["how long:", "how many:", "how often:", "when to stop:"],
    "prevention": ["lifting", "breaks", "exercise", "sleep"],
    "treatment": ["physiotherap", "muscle relaxant", "injection", "surgery", "massage"],
    "diagnosis": ["examin", "mri", "x-ray", "blood test"],
    "when to get help": ["cauda equina", "999", "emergency department", "bladder", "fever", "weight loss", "cancer"],
}

MARKETING = ["discount", "coupon", "checkout", "backpain10", "teeter", "buy now", "®"]


@pytest.fixture
def library_text(articles):
    return " ".join(
        f"{article.title} {article.summary} {article.body_text}".lower() for article in Article.objects.published()
    ).replace("\u2019", "'")


def test_there_are_at_least_six_published_articles(articles):
    assert Article.objects.published().count() >= 6


@pytest.mark.parametrize("topic", TOPICS)
def test_the_articles_cover_the_topic(library_text, topic):
    missing = [term for term in TOPICS[topic] if term not in library_text]
    assert missing == [], f"{topic}: nothing on {', '.join(missing)}"


def test_the_articles_carry_no_product_or_discount_promotion(library_text):
    assert [word for word in MARKETING if word in library_text] == []


def test_every_stretch_section_says_how_long_how_many_how_often_and_when_to_stop(articles):
    stretches = Article.objects.get(slug="stretches-and-exercises-for-back-spasms")
    sections = stretches.body_markdown.split("\n## ")[1:]
    exercise_sections = [section for section in sections if "](/static/clinic/illustrations/" in section]
    assert len(exercise_sections) >= 6
    for section in exercise_sections:
        heading = section.splitlines()[0]
        for label in ("**How long:**", "**How many:**", "**How often:**", "**When to stop:**"):
            assert label in section, f"{heading}: no {label}"
