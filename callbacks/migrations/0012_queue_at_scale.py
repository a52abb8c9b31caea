# The staff queue at 1,000,000 requests: partial indexes for the open queue, and trigram indexes for search.

import callbacks.models.requests
import django.db.models.functions.text
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('callbacks', '0011_waitlist_phone_e164'),
        ('intake', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # pg_trgm, for the trigram indexes below (on PostgreSQL only; SQLite skips both).
        TrigramExtension(),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=models.Index(condition=models.Q(('status', 'closed'), _negated=True), fields=['priority', 'deadline', 'created_at', 'id'], include=('questionnaire_response', 'status', 'assigned_to'), name='cb_open_queue'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=models.Index(condition=models.Q(('status', 'closed'), _negated=True), fields=['assigned_to', 'priority', 'deadline', 'created_at', 'id'], include=('questionnaire_response',), name='cb_open_assigned'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=models.Index(condition=models.Q(('status__in', ('new', 'in_progress'))), fields=['deadline'], include=('questionnaire_response',), name='cb_awaiting_deadline'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=callbacks.models.requests.PostgresTrigramIndex(django.db.models.functions.text.Upper('reference'), name='cb_reference_trgm'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=callbacks.models.requests.PostgresTrigramIndex(django.db.models.functions.text.Upper('name'), name='cb_name_trgm'),
        ),
        migrations.AddIndex(
            model_name='callbackrequest',
            index=callbacks.models.requests.PostgresTrigramIndex(django.db.models.functions.text.Upper('phone'), name='cb_phone_trgm'),
        ),
    ]
