"""The load_articles command: idempotent, follows changed files, respects the admin's edits and flags."""

import datetime as dt
import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clinic.articles.loading import ARTICLES_DIR
from clinic.articles.services import article_save
from clinic.models import Article
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

REPOSITORY_SLUGS = sorted(path.stem for path in ARTICLES_DIR.glob("*.md"))


@pytest.fixture
def folder(tmp_path):
    """A copy of the repository's article files that a test may change."""
    copy = tmp_path / "articles"
    shutil.copytree(ARTICLES_DIR, copy)
    return copy


def load(folder=ARTICLES_DIR):
    out, err = io.StringIO(), io.StringIO()
    call_command("load_articles", folder=folder, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rewrite(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def snapshot():
    return {
        article.slug: (article.updated_at, article.body_html, article.source_hash)
        for article in Article.objects.order_by("slug")
    }


def test_first_load_creates_every_article_from_the_repository_rendered_and_related():
    out, _ = load()
    assert "7 created, 0 updated, 0 unchanged" in out
    assert sorted(Article.objects.values_list("slug", flat=True)) == REPOSITORY_SLUGS
    for article in Article.objects.all():
        assert article.published
        assert article.body_html.startswith("<h2")
        assert article.toc and article.reading_minutes >= 1
        assert article.body_text and "##" not in article.body_text
        assert article.related.exists()
    stretches = Article.objects.get(slug="stretches-and-exercises-for-back-spasms")
    assert set(stretches.related.values_list("slug", flat=True)) == {
        "quick-relief-for-back-spasms",
        "preventing-back-spasms",
        "treatment-for-back-spasms",
    }


def test_second_load_of_the_same_files_writes_nothing():
    load()
    before = snapshot()
    out, err = load()
    assert "0 created, 0 updated, 7 unchanged" in out
    assert err == ""
    assert snapshot() == before


def test_a_changed_file_updates_its_article_only(folder):
    load(folder)
    before = snapshot()
    rewrite(folder / "causes-of-back-spasms.md", "## Strain and overuse", "## Strain, overuse and heavy lifting")
    out, _ = load(folder)
    assert "0 created, 1 updated, 6 unchanged" in out
    after = snapshot()
    assert after.pop("causes-of-back-spasms") != before.pop("causes-of-back-spasms")
    assert after == before
    causes = Article.objects.get(slug="causes-of-back-spasms")
    assert '<h2 id="strain-overuse-and-heavy-lifting">Strain, overuse and heavy lifting</h2>' in causes.body_html
    assert {"id": "strain-overuse-and-heavy-lifting", "title": "Strain, overuse and heavy lifting", "level": 2} in (
        causes.toc
    )


def test_a_new_file_is_added_without_touching_the_others(folder):
    load(folder)
    (folder / "sleeping-with-back-pain.md").write_text(
        "---\ntitle: Sleeping with back pain\nslug: sleeping-with-back-pain\nsummary: Positions that help.\n"
        "order: 8\nreviewed_on: 2026-11-20\nrelated: [what-is-a-back-spasm]\nemergency_banner: false\n---\n"
        "## On your side\n\nA pillow between the knees helps.\n",
        encoding="utf-8",
    )
    out, _ = load(folder)
    assert "1 created, 0 updated, 7 unchanged" in out
    assert Article.objects.get(slug="sleeping-with-back-pain").reviewed_on == dt.date(2026, 11, 20)


def test_admin_edit_survives_a_load_of_the_unchanged_file():
    load()
    article = Article.objects.get(slug="what-is-a-back-spasm")
    article.title = "What is a back spasm? (edited by staff)"
    article_save(article=article)
    out, err = load()
    assert "7 unchanged" in out
    assert err == ""
    assert Article.objects.get(slug="what-is-a-back-spasm").title == "What is a back spasm? (edited by staff)"


def test_a_changed_file_replaces_an_admin_edit_and_says_so(folder):
    load(folder)
    article = Article.objects.get(slug="what-is-a-back-spasm")
    article.summary = "Edited in the admin."
    article_save(article=article)
    rewrite(folder / "what-is-a-back-spasm.md", "order: 1", "order: 10")
    out, err = load(folder)
    assert "1 updated" in out
    assert "what-is-a-back-spasm: its file changed, so it replaced edits made in the admin" in err
    article.refresh_from_db()
    assert article.order == 10
    assert article.summary != "Edited in the admin."


def test_a_load_never_publishes_an_article_staff_unpublished(folder):
    load(folder)
    Article.objects.filter(slug="treatment-for-back-spasms").update(published=False)
    rewrite(folder / "treatment-for-back-spasms.md", "## Finding the cause", "## How the cause is found")
    out, _ = load(folder)
    assert "1 updated" in out
    assert Article.objects.get(slug="treatment-for-back-spasms").published is False


def test_articles_written_only_in_the_admin_are_left_alone():
    own = ArticleFactory(title="Our opening hours over the holidays", slug="holiday-hours")
    load()
    load()
    own.refresh_from_db()
    assert own.title == "Our opening hours over the holidays"
    assert Article.objects.count() == 8


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("---\ntitle:", "title:", "no YAML front matter"),
        (
            "related: [causes-of-back-spasms",
            "related: [no-such-article",
            "related article(s) not found: no-such-article",
        ),
        ("reviewed_on: 2026-11-23", "reviewed_on: soon", "reviewed_on must be a date"),
        ("order: 1", "order: first", "order must be a whole number"),
        ("title: What is a lower back spasm?", "title: " + "Very long title " * 15, "at most 200 characters"),
    ],
)
def test_an_invalid_file_stops_the_load_before_anything_is_saved(folder, old, new, message):
    rewrite(folder / "what-is-a-back-spasm.md", old, new)
    with pytest.raises(CommandError, match="Articles not loaded") as error:
        load(folder)
    assert message in str(error.value)
    assert Article.objects.count() == 0


def test_an_invalid_file_leaves_the_loaded_articles_as_they_were(folder):
    load(folder)
    before = snapshot()
    rewrite(folder / "causes-of-back-spasms.md", "## Strain and overuse", "## Strain")
    rewrite(folder / "what-is-a-back-spasm.md", "reviewed_on: 2026-11-23", "reviewed_on: soon")
    with pytest.raises(CommandError):
        load(folder)
    assert snapshot() == before


def test_the_release_command_that_compose_runs_loads_the_articles():
    call_command("release", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(Article.objects.values_list("slug", flat=True)) == REPOSITORY_SLUGS


def test_runlocal_loads_the_articles_before_it_starts_the_servers(monkeypatch, settings, tmp_path):
    import subprocess

    settings.VAR_DIR = tmp_path
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    seen_at_start = []

    class FakeProcess:
        def __init__(self, *args, **kwargs):
            seen_at_start.append(Article.objects.count())

        def send_signal(self, signal):
            pass

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: seen_at_start.append(Article.objects.count()))
    call_command("runlocal", stdout=io.StringIO(), stderr=io.StringIO())
    assert seen_at_start == [7, 7, 7, 7]  # both workers, beat, the web server
