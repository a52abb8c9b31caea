from django.contrib import admin
from django.utils.safestring import mark_safe

from clinic.articles.cache import articles_cache_clear
from clinic.articles.services import article_delete, article_save
from clinic.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "published", "order", "reviewed_on", "emergency_banner", "updated_at")
    list_filter = ("published", "emergency_banner")
    search_fields = ("title", "slug", "summary")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("related",)
    readonly_fields = ("reading_minutes", "updated_at", "rendered_preview")
    fieldsets = (
        (
            None,
            {
                "fields": ("title", "slug", "summary", "published", "order", "reviewed_on", "emergency_banner"),
                "description": (
                    "Articles loaded from the repository's files keep your edits here until that article's file "
                    "changes; the next load after such a change replaces them with the file's version and says "
                    "so. Keep the slug of a loaded article: the loader finds the article by its slug."
                ),
            },
        ),
        ("Body", {"fields": ("body_markdown", "related")}),
        ("As rendered on the site", {"fields": ("reading_minutes", "updated_at", "rendered_preview")}),
    )

    @admin.display(description="Rendered body")
    def rendered_preview(self, article):
        # body_html was sanitised by clinic.articles.services when the article was saved.
        return mark_safe(article.body_html)  # noqa: S308

    def save_model(self, request, obj, form, change):
        # Renders and sanitises the Markdown, and empties the article cache once the change commits.
        article_save(article=obj)

    def delete_model(self, request, obj):
        article_delete(article=obj)

    def delete_queryset(self, request, queryset):
        queryset.delete()
        articles_cache_clear()
