"""Send a patient's next outcome follow-up now, as the request page's "Send a follow-up now" does.

    python manage.py follow_up_send_now CB-7KQ2M --by fran

Privacy-logged under the member of staff named by ``--by`` (a questionnaire about the patient's health goes out on
their word), and in the request's history.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from callbacks.models import CallbackRequest
from callbacks.requests.followup_schedule import FollowUpNotWaiting, follow_up_send_now


class Command(BaseCommand):
    help = "Make a patient's next follow-up due at once and hand it to the outbox (privacy-logged)."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="the request's reference, e.g. CB-7KQ2M")
        parser.add_argument("--by", required=True, help="the username of the member of staff asking for it")

    def handle(self, *args, reference: str, by: str, **options):
        actor = get_user_model().objects.filter(username=by, is_active=True, is_staff=True).first()
        if actor is None:
            raise CommandError(f"No active staff account is called {by!r}.")
        request = CallbackRequest.objects.filter(reference=reference.strip().upper()).first()
        if request is None:
            raise CommandError(f"No request has the reference {reference!r}.")
        try:
            follow_up = follow_up_send_now(request=request, actor=actor)
        except FollowUpNotWaiting as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{request.reference}: the {follow_up.weeks}-week follow-up is in the outbox.")
