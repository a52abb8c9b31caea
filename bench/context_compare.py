"""medspaCy's ConText measured against our red-flag matcher, on the same labelled corpus. A measurement tool only:
not part of the product, imported by nothing, and run in its own virtualenv so that spaCy never enters the site's.

How to run it (from /work/main):

    python3.11 -m venv /tmp/medspacy-venv
    /tmp/medspacy-venv/bin/pip install medspacy==1.3.1 spacy==3.7.5    # the versions measured (PyPI, 2026-12)
    /tmp/medspacy-venv/bin/pip install -r requirements.txt             # Django etc., to read our lexicon
    /tmp/medspacy-venv/bin/python bench/context_compare.py             # both corpora, timing, memory
    /tmp/medspacy-venv/bin/python bench/context_compare.py --misses    # also the sentences the two judge apart

Never install spaCy or medspaCy into the project's .venv. No model download is needed: the pipeline is
``medspacy.load()`` on a blank English model with medspaCy's own tokenizer, preprocessor, PyRuSH sentence splitter,
TargetMatcher and ConText.

What is compared
- ours: ``intake.screening.screening_text`` (intake/screening/text.py and the v3 lexicon), as bench/redflags.py runs it.
- medspaCy: a TargetMatcher whose rules are generated from the same lexicon (one label per group = its question id;
  each phrase's slots, in any order, with up to 8 other words of the same clause between them; single words as
  LOWER, ``*`` stems as a REGEX prefix, multi-word alternatives as token sequences that may hold one other word,
  as our matcher allows), then ConText with medspaCy's default rules plus rules made from the lexicon's
  negation_cues (forward, negation_window), not_negation_after (pseudo), hypothetical_cues (forward,
  hypothetical_window), question_starts (a sentence-initial question word, ended by I / my), past_markers and
  resolved_markers (historical, whole sentence, ended by a present or returned marker), others and
  others_anywhere (family, ended by I / my). The lexicon's read_as spellings and apostrophe removal are done by
  medspaCy's Preprocessor. A target counts unless ConText marks it is_negated, is_hypothetical, is_family, or
  is_historical (the last not for groups with history_counts). is_uncertain is ignored.
- "medspaCy + unless": the same, plus a second ConText component that excludes a group's target when one of the
  group's ``unless`` words is in the sentence (our matcher has these; plain ConText has no such notion).
- Both: a group marked needs_rule counts only when its rule would hold (``intake.screening._rules_would_hold``,
  the same function our screen uses), so that the two are judged on the same terms.
- Not translated: spelling slips (our matcher forgives one letter), the carer reading ("my husband can't feel his
  legs" counts for us; ConText marks it is_family), the "and + new statement" clause break.

Scored as tests/intake/redflag_corpus.py scores (``expected_flag``, ``ScreenedSentence``): per flag sensitivity,
per context specificity, harmless specificity, all sentences that state no red flag now. Time and memory come
from two fresh child processes (one loads only ours, one loads the medspaCy pipeline; both need Django to read the
lexicon), ``resource.getrusage(RUSAGE_SELF).ru_maxrss``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

GAP = 8  # other words allowed between two slots of a phrase (our SPAN_ALLOWANCE)
CLAUSE_WORDS = ["but", "however", "although", "though", "except", "yet", "whereas", "apart"]
FIRST_PERSON = ["i", "me", "my", "im", "ive", "id", "myself", "mine", "ill"]
AFTER_CUES = ["no", "none", "nope"]
SPAN_GROUP = "redflag_targets"


def django_setup() -> None:
    import django

    django.setup()


def lexicon_and_definition():
    from intake.definitions import BACK_PAIN, definition_current
    from intake.screening import lexicon_for_definition

    definition = definition_current(BACK_PAIN)
    return lexicon_for_definition(definition), definition


# The medspaCy pipeline ---------------------------------------------------------------------------------------


class MedspacyScreen:
    """The lexicon translated into medspaCy TargetRules and ConTextRules."""

    def __init__(self, lexicon, definition):
        import medspacy
        from loguru import logger
        from medspacy.context import ConTextRule
        from medspacy.preprocess import PreprocessingRule
        from medspacy.target_matcher import TargetRule
        from spacy.tokens import Span

        logger.disable("PyRuSH")  # PyRuSH logs every token at DEBUG through loguru
        self.lexicon = lexicon
        self.definition = definition
        self.history = {group.question for group in lexicon.groups if group.history_counts}
        nlp = medspacy.load(
            medspacy_enable=["medspacy_tokenizer", "medspacy_preprocessor", "medspacy_pyrush"], load_rules=False
        )
        # Preprocessing: apostrophes out ("can't" -> "cant", as the lexicon writes words), then read_as.
        rules = [
            PreprocessingRule(r"[\u2019\u2018`]", repl="'", desc="curly apostrophes"),
            PreprocessingRule(r"(?<=[a-z])'(?=[a-z])", repl="", desc="apostrophes inside words"),
        ]
        for key in sorted(lexicon.read_as, key=lambda key: -len(key)):
            words = r"\s+".join(re.escape(word) for word in key.split())
            rules.append(PreprocessingRule(rf"\b{words}\b", repl=lexicon.read_as[key], desc=f"read_as {key}"))
        nlp.tokenizer.add(rules)
        self.nlp = nlp
        self.target_rules = [
            TargetRule(literal=f"{group.question}:{number}", category=group.question, pattern=pattern)
            for group in lexicon.groups
            for number, slots in enumerate(group.phrase_slots())
            for pattern in self._phrase_patterns(slots)
        ]
        matcher = nlp.add_pipe(
            "medspacy_target_matcher",
            config={"result_type": "group", "span_group_name": SPAN_GROUP, "prune": False},
        )
        matcher.add(self.target_rules)
        context = nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "span_group_name": SPAN_GROUP})
        self.default_context_rules = len(context.rules)
        self.context_rules = self._context_rules(ConTextRule)
        context.add(self.context_rules)
        if not Span.has_extension("is_excluded"):
            Span.set_extension("is_excluded", default=False)
        exclusions = nlp.add_pipe(
            "medspacy_context",
            name="unless_context",
            config={
                "rules": None,
                "input_span_type": "group",
                "span_group_name": SPAN_GROUP,
                "span_attrs": {"EXCLUDED": {"is_excluded": True}},
            },
        )
        self.unless_rules = [
            ConTextRule(
                literal=word,
                category="EXCLUDED",
                direction="BIDIRECTIONAL",
                allowed_types={group.question},
                pattern=self._words_pattern(word),
            )
            for group in lexicon.groups
            for word in group.unless
        ]
        if self.unless_rules:
            exclusions.add(self.unless_rules)

    # Patterns ---------------------------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[str]:
        return [token.lower_ for token in self.nlp.tokenizer(text) if not token.is_space]

    def _words_pattern(self, text: str) -> list[dict]:
        """A multi-word alternative: its tokens in order, one other word allowed between two of them."""
        pattern: list[dict] = []
        for number, token in enumerate(self._tokens(text)):
            if number:
                pattern.append({"IS_PUNCT": False, "OP": "?"})
            pattern.append({"LOWER": token})
        return pattern

    def _slot_options(self, slot: list[str]) -> list[list[dict]]:
        """One slot: a single token for every one-token alternative and stem, a sequence for each longer one."""
        singles: list[str] = []
        stems: list[str] = []
        options: list[list[dict]] = []
        for alternative in slot:
            if alternative.endswith("*"):
                stem = self._tokens(alternative[:-1])
                if len(stem) == 1:
                    stems.append(stem[0])
                else:  # a stem the tokenizer splits: its leading tokens, then the last one as a prefix
                    options.append(
                        [{"LOWER": t} for t in stem[:-1]] + [{"LOWER": {"REGEX": f"^{re.escape(stem[-1])}"}}]
                    )
                continue
            tokens = self._tokens(alternative)
            if len(tokens) == 1:
                singles.append(tokens[0])
            else:
                options.append(self._words_pattern(alternative))
        regex = []
        if stems:
            regex.append("^(?:" + "|".join(re.escape(stem) for stem in sorted(set(stems))) + ")")
        if singles:
            # "38" also matches "38.4" (spaCy keeps a decimal in one token; our matcher reads "38").
            words = "|".join(
                re.escape(word) + (r"(?:\.\d+)?" if word.isdigit() else "") for word in sorted(set(singles))
            )
            regex.append(f"^(?:{words})$")
        if regex:
            options.insert(0, [{"LOWER": {"REGEX": "|".join(regex)}}])
        return options

    def _phrase_patterns(self, slots: list[list[str]]) -> list[list[dict]]:
        """Every order of the slots, every combination of their options, other words of the clause between."""
        gap = {"IS_PUNCT": False, "LOWER": {"NOT_IN": CLAUSE_WORDS}, "OP": f"{{0,{GAP}}}"}
        per_slot = [self._slot_options(slot) for slot in slots]
        patterns = []
        for order in itertools.permutations(range(len(slots))):
            for combination in itertools.product(*(per_slot[index] for index in order)):
                pattern: list[dict] = []
                for number, option in enumerate(combination):
                    if number:
                        pattern.append(dict(gap))
                    pattern.extend(option)
                patterns.append(pattern)
        return patterns

    def _context_rules(self, ConTextRule) -> list:
        lexicon = self.lexicon
        rules = []

        def phrase(text: str) -> list[dict]:
            return [{"LOWER": token} for token in self._tokens(text)]

        for cue in lexicon.negation_cues:
            rules.append(
                ConTextRule(
                    literal=f"neg {cue}",
                    category="NEGATED_EXISTENCE",
                    direction="FORWARD",
                    pattern=phrase(cue),
                    max_scope=lexicon.negation_window,
                )
            )
            # "not sure if", "no longer": not a negation (a longer pseudo match prunes the cue)
            rules.append(
                ConTextRule(
                    literal=f"pseudo {cue}",
                    category="PSEUDO_NEGATION",
                    direction="PSEUDO",
                    pattern=[*phrase(cue), {"LOWER": {"IN": list(lexicon.not_negation_after)}}],
                )
            )
        # "fever: no", "numb bum - none", "legs numb no.": a bare "no" that ends a sentence or clause negates the
        # phrase before it (being longer, this match prunes the forward "no" at the same place).
        rules.append(
            ConTextRule(
                literal="after no",
                category="NEGATED_EXISTENCE",
                direction="BACKWARD",
                pattern=[{"IS_PUNCT": True, "OP": "*"}, {"LOWER": {"IN": AFTER_CUES}}, {"IS_PUNCT": True}],
                max_scope=3,
            )
        )
        for cue in lexicon.hypothetical_cues:
            rules.append(
                ConTextRule(
                    literal=f"hyp {cue}",
                    category="HYPOTHETICAL",
                    direction="FORWARD",
                    pattern=phrase(cue),
                    max_scope=lexicon.hypothetical_window,
                )
            )
        rules.append(
            ConTextRule(
                literal="question start",
                category="HYPOTHETICAL",
                direction="FORWARD",
                pattern=[{"IS_SENT_START": True, "LOWER": {"IN": list(lexicon.question_starts)}}],
                terminated_by={"FIRST_PERSON"},
            )
        )
        for marker in [*lexicon.past_markers, *lexicon.resolved_markers]:
            rules.append(
                ConTextRule(
                    literal=f"past {marker}",
                    category="HISTORICAL",
                    direction="BIDIRECTIONAL",
                    pattern=phrase(marker),
                    terminated_by={"PRESENT"},
                )
            )
        for marker in [*lexicon.present_markers, *lexicon.returned_markers]:
            rules.append(
                ConTextRule(literal=f"present {marker}", category="PRESENT", direction="PSEUDO", pattern=phrase(marker))
            )
        others = sorted({*lexicon.others, *(f"{word}s" for word in lexicon.others)})
        rules.append(
            ConTextRule(
                literal="others",
                category="FAMILY",
                direction="FORWARD",
                pattern=[{"LOWER": {"IN": others}}],
                terminated_by={"FIRST_PERSON"},
            )
        )
        for marker in lexicon.others_anywhere:
            rules.append(
                ConTextRule(
                    literal=f"others {marker}", category="FAMILY", direction="BIDIRECTIONAL", pattern=phrase(marker)
                )
            )
        rules.append(
            ConTextRule(
                literal="first person",
                category="FIRST_PERSON",
                direction="PSEUDO",
                pattern=[{"LOWER": {"IN": FIRST_PERSON}}],
            )
        )
        return rules

    # Screening --------------------------------------------------------------------------------------------------

    def screen_both(self, text: str) -> tuple[list[str], list[str]]:
        """The questions the text points at, lexicon order (as ``screening_text`` answers): by ConText alone, and
        with the group's ``unless`` words too. One pipeline run."""
        text = text[:5000]
        # A full stop after a text that has none, so that a bare "no" after a phrase ("fever: no") can be told from
        # a "no" before one ("no leaking, no incontinence"): see the "after no" rule. (Not a Preprocessor rule: that
        # would also change the rules' own literals, which medspaCy tokenizes with the same tokenizer.)
        doc = self.nlp(text if re.search(r"[.!?]\s*\Z", text) else text.rstrip() + " .")
        plain: set[str] = set()
        unless: set[str] = set()
        for span in doc.spans[SPAN_GROUP]:
            if span._.is_negated or span._.is_hypothetical or span._.is_family:
                continue
            if span._.is_historical and span.label_ not in self.history:
                continue
            plain.add(span.label_)
            if not span._.is_excluded:
                unless.add(span.label_)
        return self._rule_held(plain, text), self._rule_held(unless, text)

    def _rule_held(self, found: set[str], text: str) -> list[str]:
        from intake.screening import Finding, _rules_would_hold

        findings = [Finding(question, "text", "text", text, "") for question in found]
        kept = {
            finding.question_id for finding in _rules_would_hold(self.definition, self.lexicon, {}, findings, [text])
        }
        return [group.question for group in self.lexicon.groups if group.question in kept]


# A child process: one engine loaded, timed and measured ------------------------------------------------------


def child(engine: str, corpora: list[Path]) -> None:
    started = time.perf_counter()
    if engine == "medspacy":
        import medspacy
        import spacy

        import_s = time.perf_counter() - started
        versions = {"medspacy": medspacy.__version__, "spacy": spacy.__version__}
        started = time.perf_counter()
        django_setup()
        import intake.screening

        django_s = time.perf_counter() - started
    else:
        import_s = None
        versions = {}
        django_setup()
        import intake.screening  # noqa: F401

        django_s = time.perf_counter() - started
    from bench.redflags import hostile_texts
    from tests.intake.redflag_corpus import corpus_load

    started = time.perf_counter()
    lexicon, definition = lexicon_and_definition()
    lexicon_s = time.perf_counter() - started
    started = time.perf_counter()
    if engine == "medspacy":
        screen = MedspacyScreen(lexicon, definition)
        run = screen.screen_both
        sizes = {
            "target_rules": len(screen.target_rules),
            "context_rules_default": screen.default_context_rules,
            "context_rules_added": len(screen.context_rules),
            "unless_rules": len(screen.unless_rules),
        }
        run("warm up the caches")
    else:
        from intake.screening import screening_text
        from intake.screening.text import matcher_for

        matcher_for(lexicon)
        sizes = {}

        def run(text):
            found = screening_text(definition=definition, text=text)
            return found, found

        run("warm up the caches")
    build_s = time.perf_counter() - started
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = {}
    texts_all = []
    for path in corpora:
        texts = [sentence.text for sentence in corpus_load(path)]
        texts_all += texts
        results[str(path)] = [run(text) for text in texts]
    started = time.perf_counter()
    for text in texts_all:
        run(text)
    per_sentence_ms = (time.perf_counter() - started) / len(texts_all) * 1000
    durations = []
    for text in hostile_texts(40):
        started = time.perf_counter()
        run(text)
        durations.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "engine": engine,
                "versions": versions,
                "sizes": sizes,
                "import_s": import_s,
                "django_s": django_s,
                "lexicon_s": lexicon_s,
                "build_s": build_s,
                "per_sentence_ms": per_sentence_ms,
                "sentences_timed": len(texts_all),
                "hostile_median_ms": statistics.median(durations),
                "hostile_max_ms": max(durations),
                "rss_built_kb": rss_built,
                "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "results": results,
            }
        )
    )


# Scoring and the report ----------------------------------------------------------------------------------------


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def score(screened) -> dict:
    from tests.intake.redflag_corpus import corpus_groups

    groups = corpus_groups(screened)
    by_flag, by_context, harmless = groups.by_flag, groups.by_context, groups.harmless
    rows = {}
    for flag, items in by_flag.items():
        rows[("flag", flag)] = (sum(item.caught for item in items), len(items))
    for context, items in by_context.items():
        rows[("context", context)] = (sum(not item.found for item in items), len(items))
    rows[("context", "harmless (flag none)")] = (sum(not item.found for item in harmless), len(harmless))
    everything = [item for items in by_context.values() for item in items] + harmless
    rows[("context", "all that state no red flag now")] = (sum(not item.found for item in everything), len(everything))
    stated = [item for items in by_flag.values() for item in items]
    rows[("flag", "all stated red flags")] = (sum(item.caught for item in stated), len(stated))
    return rows


def table(title: str, engines: dict[str, dict]) -> None:
    names = list(engines)
    print(f"\n### {title}\n")
    head = " | ".join(f"{name}" for name in names)
    print(f"| | n | {head} |")
    print("|---|---|" + "---|" * len(names))
    keys = list(next(iter(engines.values())))
    flags = sorted((key for key in keys if key[0] == "flag" and not key[1].startswith("all")), key=lambda k: k[1])
    contexts = sorted(
        key for key in keys if key[0] == "context" and key[1] in ("negated", "past", "other", "hypothetical")
    )
    print("| **sensitivity (caught / stated)** | | " + " | ".join("" for _ in names) + " |")
    for key in [*flags, ("flag", "all stated red flags")]:
        n = engines[names[0]][key][1]
        cells = " | ".join(f"{engines[name][key][0]} ({percent(*engines[name][key])})" for name in names)
        print(f"| {key[1]} | {n} | {cells} |")
    print("| **specificity (raised nothing / sentences)** | | " + " | ".join("" for _ in names) + " |")
    for key in [*contexts, ("context", "harmless (flag none)"), ("context", "all that state no red flag now")]:
        if key not in engines[names[0]]:
            continue
        n = engines[names[0]][key][1]
        cells = " | ".join(f"{engines[name][key][0]} ({percent(*engines[name][key])})" for name in names)
        print(f"| {key[1]} | {n} | {cells} |")


def run_child(engine: str, corpora: list[Path]) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", engine, *map(str, corpora)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child {engine} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=["ours", "medspacy"], help=argparse.SUPPRESS)
    parser.add_argument("--misses", action="store_true", help="print the sentences the engines judge differently")
    parser.add_argument("corpora", nargs="*", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpora)
        return
    django_setup()
    from tests.intake.redflag_corpus import CORPUS, HOLDOUT, ScreenedSentence, corpus_load, expected_flag, history_flags

    corpora = args.corpora or [CORPUS, HOLDOUT]
    ours = run_child("ours", corpora)
    theirs = run_child("medspacy", corpora)
    history = history_flags()
    print(
        f"medspaCy {theirs['versions']['medspacy']}, spaCy {theirs['versions']['spacy']}, Python "
        f"{sys.version.split()[0]}; medspaCy rules: {theirs['sizes']}"
    )
    for path in corpora:
        sentences = corpus_load(path)
        columns = {
            "ours": [found[0] for found in ours["results"][str(path)]],
            "medspaCy ConText": [found[0] for found in theirs["results"][str(path)]],
            "medspaCy + unless": [found[1] for found in theirs["results"][str(path)]],
        }
        screened = {
            name: [
                ScreenedSentence(sentence, expected_flag(sentence, history), tuple(found))
                for sentence, found in zip(sentences, founds, strict=True)
            ]
            for name, founds in columns.items()
        }
        table(
            f"{path.relative_to(ROOT) if path.is_absolute() else path}: {len(sentences)} sentences",
            {name: score(items) for name, items in screened.items()},
        )
        if args.misses:
            print("\nJudged differently (ours right, medspaCy wrong: -; medspaCy right, ours wrong: +):")
            for mine, other in zip(screened["ours"], screened["medspaCy ConText"], strict=True):
                if mine.right != other.right:
                    sign = "-" if mine.right else "+"
                    print(
                        f"  {sign} [{mine.sentence.flag}/{mine.sentence.context}] {mine.sentence.text!r} "
                        f"ours={list(mine.found)} medspacy={list(other.found)}"
                    )
    print("\n### Time and memory (fresh process each, same Python)\n")
    print("| | ours | medspaCy |")
    print("|---|---|---|")
    print(f"| import spacy + medspacy | - | {theirs['import_s']:.2f} s |")
    print(f"| django.setup + intake.screening | {ours['django_s']:.2f} s | {theirs['django_s']:.2f} s |")
    print(f"| lexicon load | {ours['lexicon_s'] * 1000:.0f} ms | {theirs['lexicon_s'] * 1000:.0f} ms |")
    print(f"| pipeline / matcher build | {ours['build_s'] * 1000:.0f} ms | {theirs['build_s'] * 1000:.0f} ms |")
    print(
        f"| per sentence ({ours['sentences_timed']} sentences) | {ours['per_sentence_ms']:.2f} ms | "
        f"{theirs['per_sentence_ms']:.2f} ms |"
    )
    print(
        f"| 40 texts of 2,000 characters: median | {ours['hostile_median_ms']:.1f} ms | "
        f"{theirs['hostile_median_ms']:.1f} ms |"
    )
    print(
        f"| 40 texts of 2,000 characters: worst | {ours['hostile_max_ms']:.1f} ms | {theirs['hostile_max_ms']:.1f} ms |"
    )
    print(f"| peak RSS after build | {ours['rss_built_kb'] / 1024:.0f} MB | {theirs['rss_built_kb'] / 1024:.0f} MB |")
    print(f"| peak RSS after screening | {ours['rss_peak_kb'] / 1024:.0f} MB | {theirs['rss_peak_kb'] / 1024:.0f} MB |")
    print(
        "\n(medspaCy times are whole pipeline runs, the unless ConText component included; 'Judged differently'"
        " lists compare ours with the plain medspaCy ConText column.)"
    )


if __name__ == "__main__":
    main()
