"""The free-text red-flag screen measured on labelled patient sentences: sensitivity and specificity, and speed.

    .venv/bin/python bench/redflags.py                       # the corpus (tests/data/redflag_corpus.yaml)
    .venv/bin/python bench/redflags.py --corpus tests/data/redflag_holdout.yaml
    .venv/bin/python bench/redflags.py --misses              # also print every sentence judged wrongly

Each sentence is screened on its own, as the "anything else" answer of a patient who answered every safety
question "no" and gave no age (what a patient who stops at the reference leaves us), through
`intake.screening.screening_text`, the one public function the site uses.

What it prints (Markdown, for docs/BENCHMARKS.md):
- per flag: sentences that state it now (affirmed, or written by a carer; for a history rule, past too), how many
  the screen pointed at the right safety question (sensitivity), and the tier of the rule behind it;
- per context (negated, past, someone else, hypothetical): how many raised nothing (a past history rule excepted);
- harmless sentences (flag none) that raised nothing (specificity);
- time to screen: the corpus sentence by sentence, and 2,000-character texts of any script and emoji (the
  longest, the median).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from tests.intake.redflag_corpus import (  # noqa: E402
    CORPUS,
    ScreenedSentence,
    corpus_groups,
    corpus_load,
    corpus_screen,
    flag_tiers,
)


def hostile_texts(count: int, seed: int = 7) -> list[str]:
    """2,000 characters each: mixed scripts, emoji, combining marks, long words, no spaces, repeated phrases."""
    rng = random.Random(seed)
    alphabets = [
        "abcdefghijklmnopqrstuvwxyz     ",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя ",
        "的一是不了人我在有他这为之大来以个中上们 ",
        "ابتثجحخدذرزسشصضطظعغفقكلمنهوي ",
        "😀😂🤣😭🙏👍🔥💥🦴🩻 ",
        "\u0301\u0308\u200b\u202e\ufeff a",
    ]
    texts = [
        ("numb legs and " * 200)[:2000],
        ("pins and needles " * 150)[:2000],
        "x" * 2000,
        ("I can't feel my bum " * 120)[:2000],
    ]
    while len(texts) < count:
        alphabet = rng.choice(alphabets) + rng.choice(alphabets)
        texts.append("".join(rng.choice(alphabet) for _ in range(2000)))
    return texts


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def report(screened: list[ScreenedSentence], *, show_misses: bool) -> None:
    tiers = flag_tiers()
    groups = corpus_groups(screened)
    by_flag, by_context, harmless = groups.by_flag, groups.by_context, groups.harmless
    print("| flag | tier | stated | caught | sensitivity |")
    print("|---|---|---|---|---|")
    for flag in sorted(by_flag, key=lambda flag: (tiers.get(flag, "z"), flag)):
        items = by_flag[flag]
        caught = sum(item.caught for item in items)
        print(f"| {flag} | {tiers.get(flag, '?')} | {len(items)} | {caught} | {percent(caught, len(items))} |")
    print()
    print("| context (not the patient's red flag now) | sentences | raised nothing | specificity |")
    print("|---|---|---|---|")
    for context, items in sorted(by_context.items()):
        quiet = sum(not item.found for item in items)
        print(f"| {context} | {len(items)} | {quiet} | {percent(quiet, len(items))} |")
    quiet = sum(not item.found for item in harmless)
    print(f"| harmless (flag none) | {len(harmless)} | {quiet} | {percent(quiet, len(harmless))} |")
    everything = [item for items in by_context.values() for item in items] + harmless
    quiet_all = sum(not item.found for item in everything)
    print(
        f"| **all sentences that state no red flag now** | {len(everything)} | {quiet_all} | "
        f"{percent(quiet_all, len(everything))} |"
    )
    if show_misses:
        print("\nMissed (a red flag stated, the right question not found):")
        for items in by_flag.values():
            for item in items:
                if not item.caught:
                    print(f"  [{item.sentence.flag}/{item.sentence.context}] {item.sentence.text!r} -> {item.found}")
        print("\nFalse alarms (nothing to raise, something raised):")
        for item in everything:
            if item.found:
                print(f"  [{item.sentence.flag}/{item.sentence.context}] {item.sentence.text!r} -> {item.found}")


def timing(sentences: list[str], hostile: list[str]) -> None:
    from intake.definitions import BACK_PAIN, definition_current
    from intake.screening import screening_text

    definition = definition_current(BACK_PAIN)
    screening_text(definition=definition, text="warm up the caches")
    started = time.perf_counter()
    for text in sentences:
        screening_text(definition=definition, text=text)
    per_sentence = (time.perf_counter() - started) / len(sentences) * 1000
    durations = []
    for text in hostile:
        started = time.perf_counter()
        screening_text(definition=definition, text=text)
        durations.append((time.perf_counter() - started) * 1000)
    print()
    print(f"- corpus: {len(sentences)} sentences, {per_sentence:.2f} ms each on average")
    print(
        f"- {len(hostile)} texts of 2,000 characters (scripts, emoji, repeated phrases): median "
        f"{statistics.median(durations):.1f} ms, longest {max(durations):.1f} ms (target: under 50 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--misses", action="store_true", help="print every sentence judged wrongly")
    parser.add_argument("--hostile", type=int, default=40, help="how many 2,000-character texts to time")
    args = parser.parse_args()
    sentences = corpus_load(args.corpus)
    print(
        f"Corpus {args.corpus.relative_to(ROOT) if args.corpus.is_absolute() else args.corpus}: "
        f"{len(sentences)} sentences\n"
    )
    report(corpus_screen(sentences), show_misses=args.misses)
    timing([sentence.text for sentence in sentences], hostile_texts(args.hostile))


if __name__ == "__main__":
    main()
