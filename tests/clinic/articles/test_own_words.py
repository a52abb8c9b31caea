"""The clinic's articles use the seeds' facts, never their sentences.

The seed articles (public web pages the facts were taken from) live outside the
repository, in ``<repo root>/../shared/seeds/``. Every article's title, summary
and body prose is compared with every seed: no run of ``MAX_SHARED`` or more
consecutive words may appear in both, ignoring case and punctuation.

Plain pytest, no Django and no database: run with ``-p no:django`` if the
Django settings are not importable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
ARTICLES_DIR = REPO_ROOT / "clinic" / "content" / "articles"
ILLUSTRATIONS_DIR = REPO_ROOT / "clinic" / "static" / "clinic" / "illustrations"
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"

# A run of this many consecutive words shared with a seed counts as copying.
MAX_SHARED = 8

REQUIRED_KEYS = {
    "title",
    "slug",
    "summary",
    "order",
    "reviewed_on",
    "related",
    "emergency_banner",
}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER_RE = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LINK_RE = re.compile(r"(?<!!)\[([^\]]*)\]\([^)]*\)")
URL_RE = re.compile(r"(?:https?://|/static/)\S+")
HTML_TAG_RE = re.compile(r"<[^>]+>")
CODE_FENCE_RE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
# Apostrophes join a word ("don't" -> "dont"); every other non-letter splits.
APOSTROPHES_RE = re.compile(r"['\u2018\u2019`]")
WORD_RE = re.compile(r"[^\W_]+")


def article_paths() -> list[Path]:
    return sorted(ARTICLES_DIR.glob("*.md"))


def split_front_matter(text: str) -> tuple[dict, str]:
    match = FRONT_MATTER_RE.match(text)
    if match is None:
        raise ValueError("no YAML front matter between '---' lines at the top")
    meta = yaml.safe_load(match.group(1))
    if not isinstance(meta, dict):
        raise ValueError("front matter is not a mapping")
    return meta, match.group(2)


def markdown_prose(body: str) -> str:
    """The words a reader sees: image alt text and link text kept, URLs and markup dropped."""
    body = CODE_FENCE_RE.sub(" ", body)
    body = IMAGE_RE.sub(lambda m: f" {m.group(1)} ", body)
    body = LINK_RE.sub(lambda m: f" {m.group(1)} ", body)
    body = URL_RE.sub(" ", body)
    body = HTML_TAG_RE.sub(" ", body)
    return body


def article_prose(text: str) -> str:
    meta, body = split_front_matter(text)
    parts = [str(meta.get("title", "")), str(meta.get("summary", "")), markdown_prose(body)]
    return "\n".join(parts)


def normalise(text: str) -> list[str]:
    """Lowercase words with punctuation and Markdown symbols removed."""
    return WORD_RE.findall(APOSTROPHES_RE.sub("", text.lower()))


def ngram_index(sources: dict[str, str], n: int = MAX_SHARED) -> dict[tuple[str, ...], set[str]]:
    """Map every n-word sequence of every source to the names of the sources holding it."""
    index: dict[tuple[str, ...], set[str]] = {}
    for name, text in sources.items():
        words = normalise(text)
        for i in range(len(words) - n + 1):
            index.setdefault(tuple(words[i : i + n]), set()).add(name)
    return index


@dataclass(frozen=True)
class SharedRun:
    words: str
    sources: tuple[str, ...]


def shared_runs(text: str, index: dict[tuple[str, ...], set[str]], n: int = MAX_SHARED) -> list[SharedRun]:
    """Every maximal run of n or more consecutive words of ``text`` that also occurs in an indexed source."""
    words = normalise(text)
    hits = [i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) in index]
    runs: list[SharedRun] = []
    start = None
    for pos, i in enumerate(hits):
        if start is None:
            start = i
            sources: set[str] = set()
        sources |= index[tuple(words[i : i + n])]
        last = pos == len(hits) - 1
        if last or hits[pos + 1] != i + 1:
            runs.append(SharedRun(" ".join(words[start : i + n]), tuple(sorted(sources))))
            start = None
    return runs


def load_seed_index() -> dict[tuple[str, ...], set[str]]:
    if not SEEDS_DIR.is_dir():
        message = f"seed folder {SEEDS_DIR} is absent"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    seeds = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))}
    if not seeds:
        pytest.fail(f"no *.txt seeds in {SEEDS_DIR}")
    return ngram_index(seeds)


@pytest.fixture(scope="module")
def seed_index():
    return load_seed_index()


@pytest.mark.parametrize("article", article_paths(), ids=lambda p: p.name)
def test_article_shares_no_long_run_with_any_seed(article: Path, seed_index):
    runs = shared_runs(article_prose(article.read_text(encoding="utf-8")), seed_index)
    report = "\n".join(f'  {article.name} <-> {", ".join(run.sources)}: "{run.words}"' for run in runs)
    assert not runs, f"{len(runs)} run(s) of {MAX_SHARED}+ words copied from a seed:\n{report}"


def test_checker_catches_an_eight_word_copy_and_allows_seven():
    seed = "Lower back spasms can start suddenly and often settle within a few days."
    index = ngram_index({"seed.txt": seed})

    planted = "We see this often. LOWER back spasms can start, suddenly and often... then rest."
    runs = shared_runs(planted, index)
    assert runs == [SharedRun("lower back spasms can start suddenly and often", ("seed.txt",))]

    seven = "We see this often: back spasms can start suddenly and often, says the clinic."
    assert shared_runs(seven, index) == []


def test_checker_reads_front_matter_and_markdown():
    text = (
        "---\ntitle: Rest your back\nsummary: Short summary.\n---\n"
        "## A heading\n\n![Lying on the floor with knees bent](/static/clinic/illustrations/x.svg)\n\n"
        "- Read [our guide](/guide/) today.\n"
    )
    words = normalise(article_prose(text))
    assert words[:5] == ["rest", "your", "back", "short", "summary"]
    assert "static" not in words and "svg" not in words and "guide" in words
    assert "lying" in words  # alt text is prose and is checked too


def test_there_are_at_least_six_articles_with_complete_front_matter():
    paths = article_paths()
    assert len(paths) >= 6, f"expected at least 6 articles in {ARTICLES_DIR}, found {len(paths)}"

    metas = {}
    for path in paths:
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        missing = REQUIRED_KEYS - meta.keys()
        assert not missing, f"{path.name}: missing front matter keys {sorted(missing)}"
        assert meta["slug"] == path.stem, f"{path.name}: slug {meta['slug']!r} does not match the file name"
        assert SLUG_RE.match(meta["slug"]), f"{path.name}: slug is not lowercase-hyphenated"
        assert 120 <= len(meta["summary"]) <= 160, f"{path.name}: summary is {len(meta['summary'])} characters"
        assert isinstance(meta["emergency_banner"], bool), f"{path.name}: emergency_banner is not a boolean"
        assert isinstance(meta["related"], list), f"{path.name}: related is not a list"
        assert body.lstrip().startswith("## "), f"{path.name}: body should start at a ## heading"
        metas[path.stem] = meta

    titles = [m["title"] for m in metas.values()]
    summaries = [m["summary"] for m in metas.values()]
    assert len(set(titles)) == len(titles), "article titles are not unique"
    assert len(set(summaries)) == len(summaries), "article summaries are not unique"
    for slug, meta in metas.items():
        unknown = set(meta["related"]) - metas.keys() - {slug}
        assert not unknown and slug not in meta["related"], f"{slug}: bad related slugs {meta['related']}"


def test_every_illustration_referenced_by_an_article_exists_and_is_safe():
    referenced = set()
    for path in article_paths():
        for alt, url in IMAGE_RE.findall(path.read_text(encoding="utf-8")):
            assert url.startswith("/static/clinic/illustrations/"), f"{path.name}: unexpected image {url}"
            assert len(alt.split()) >= 4, f"{path.name}: alt text for {url} is not descriptive"
            referenced.add(url.rsplit("/", 1)[1])
    assert referenced, "no article shows an illustration"
    for name in sorted(referenced):
        svg = (ILLUSTRATIONS_DIR / name).read_text(encoding="utf-8")
        assert "viewBox=" in svg and "<title" in svg, f"{name}: needs a viewBox and a <title>"
        lowered = svg.lower()
        for banned in ("<script", " style=", "<style", "href=", "url(", "<foreignobject"):
            assert banned not in lowered, f"{name}: contains {banned!r}"
        assert not re.search(r"\son[a-z]+\s*=", lowered), f"{name}: has an event handler attribute"
