from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

# Addresses under /articles/ that belong to other pages (see clinic/site_urls.py).
RESERVED_SLUGS = frozenset({"search"})


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class Article(models.Model):
    """An educational article. Staff edit the Markdown; `clinic.articles.services.article_save` renders the rest."""

    title = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(
        max_length=300, help_text="One or two plain sentences: shown in lists and as the page's meta description."
    )
    body_markdown = models.TextField(
        "body (Markdown)",
        help_text="Start sections with '## ' headings; the page title is the only top-level heading.",
    )
    # Derived from body_markdown when the article is saved through the service, never in a template.
    body_html = models.TextField("body (rendered HTML)", blank=True, editable=False, default="")
    body_text = models.TextField(blank=True, editable=False, default="")
    toc = models.JSONField("table of contents", blank=True, editable=False, default=list)
    reading_minutes = models.PositiveSmallIntegerField(editable=False, default=1)

    reviewed_on = models.DateField(help_text="When a clinician last checked this article.")
    published = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Position in article lists, smallest first.")
    emergency_banner = models.BooleanField(
        default=False, help_text="Show the 'call the emergency number now' banner at the top of the article."
    )
    related = models.ManyToManyField("self", symmetrical=False, blank=True)

    # Hash of the repository file's fields at the last load: tells the loader whether the file changed since.
    source_hash = models.CharField(max_length=64, blank=True, editable=False, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]
        indexes = [models.Index(fields=["published", "order"], name="clinic_article_pub_order")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("article_detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": f"“{self.slug}” is the address of another page; choose another slug."})


class Heartbeat(models.Model):
    """The last sign of life of beat or of a queue's workers (`clinic.heartbeat`): one row per source."""

    source = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.source} at {self.at:%Y-%m-%d %H:%M:%S}"
