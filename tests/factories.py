import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest, FollowUp, Notification
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256
from callbacks.requests.references import reference_generate
from clinic.articles.services import article_save
from clinic.models import Article


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


class CallbackRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallbackRequest

    reference = factory.LazyFunction(reference_generate)
    name = factory.Faker("name", locale="en_GB")
    phone = factory.Sequence(lambda n: f"+447400{n % 1000000:06d}")
    window_start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    window_end = factory.LazyAttribute(lambda o: o.window_start + dt.timedelta(hours=2))
    reason = "Lower back pain since Monday."
    consent_version = CURRENT_CONSENT_VERSION
    consent_text_sha256 = factory.LazyFunction(consent_text_sha256)
    consent_given_at = factory.LazyFunction(timezone.now)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    request = factory.SubFactory(CallbackRequestFactory)
    kind = Notification.Kind.STAFF_NEW_REQUEST
    channel = Notification.Channel.EMAIL
    recipient = "frontdesk@clinic.test"
    # Due when written, as the outbox writes it (read through the module, so a test's frozen clock counts).
    next_attempt_at = factory.LazyAttribute(lambda row: getattr(row, "created_at", None) or timezone.now())


class FollowUpFactory(factory.django.DjangoModelFactory):
    """A follow-up whose e-mail has gone out (``status`` scheduled and ``sent_at`` None for one still to send)."""

    class Meta:
        model = FollowUp

    request = factory.SubFactory(CallbackRequestFactory, email="patient@example.test")
    weeks = 2
    due_at = factory.LazyFunction(timezone.now)
    status = FollowUp.Status.SENT
    sent_at = factory.LazyFunction(timezone.now)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A confirmed appointment with its booking request, written straight to the table (the booking services refuse
    times in the past, which attendance needs). ``practitioner`` and ``service`` must be given."""

    class Meta:
        model = Appointment

    request = factory.SubFactory(
        CallbackRequestFactory, kind=CallbackRequest.Kind.BOOKING, status=CallbackRequest.Status.BOOKED
    )
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=45))
    status = Appointment.Status.CONFIRMED


class ArticleFactory(factory.django.DjangoModelFactory):
    """An article saved through the service, so its HTML, table of contents and reading time are rendered."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Test article {n}")
    slug = factory.Sequence(lambda n: f"test-article-{n}")
    summary = factory.LazyAttribute(lambda o: f"A short summary of {o.title.lower()}.")
    body_markdown = "## What it is\n\nA few words about backs.\n\n## What to do\n\nKeep moving gently.\n"
    reviewed_on = dt.date(2026, 11, 1)
    published = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return article_save(article=model_class(*args, **kwargs))
