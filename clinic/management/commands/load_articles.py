from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.articles.loading import ARTICLES_DIR, ArticleSourceError, articles_load_from_folder
from clinic.articles.services import articles_rerender


class Command(BaseCommand):
    help = (
        "Load the articles from the repository's Markdown files, matched to the database by slug. Idempotent: "
        "a second run with the same files writes nothing. An article whose file has not changed since the last "
        "load keeps any edits staff made in the admin. An article whose file has changed takes the file's "
        "title, summary, body, order, reviewed-on date, banner and related articles, replacing admin edits "
        "(with a warning naming the article, so the edit can be carried into the file). The published flag is "
        "left as staff set it; articles written only in the admin are never touched. All or nothing: an "
        "invalid file stops the load before anything is saved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--folder", type=Path, default=ARTICLES_DIR, help="Folder of *.md article files.")
        parser.add_argument(
            "--rerender",
            action="store_true",
            help="Afterwards, render every article's HTML again (after a change to the renderer or its allow-list).",
        )

    def handle(self, *args, folder, rerender, **options):
        try:
            result = articles_load_from_folder(folder)
        except ArticleSourceError as error:
            raise CommandError(f"Articles not loaded: {error}") from error
        self.stdout.write(f"Articles: {result}")
        for slug in result.admin_edits_replaced:
            self.stderr.write(
                self.style.WARNING(
                    f"{slug}: its file changed, so it replaced edits made in the admin since the last load."
                )
            )
        if rerender:
            self.stdout.write(f"Articles re-rendered: {articles_rerender()}")
