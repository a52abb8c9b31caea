"""The text provider's webhooks (Twilio): a patient's text to the clinic, and delivery receipts for our texts.

Only the provider may post here: every request must carry Twilio's signature (X-Twilio-Signature) of the exact
public address it posted to and its parameters, checked with the SDK's own `RequestValidator` against the
account's auth token. Behind the reverse proxy the address this process sees is not the one Twilio signed, so it
is rebuilt from SMS_WEBHOOK_BASE_URL (the site's public address) and the path with its query. A missing or wrong
signature is refused with 403 and nothing is stored. Whatever is posted, the answer is never a 500: bad
parameters are a 400, and every accepted post gets empty TwiML (nothing is texted back from here; the
clinic's texts go through the outbox).
"""

import logging
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from callbacks.notifications.receipts import text_receipt_record
from callbacks.notifications.replies import inbound_text_receive

logger = logging.getLogger(__name__)

# Twilio's ids: two letters and 32 hex digits (SM..., MM...); anything else is not a real post.
PROVIDER_ID_RE = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
OUR_MESSAGE_ID_RE = re.compile(r"^notification-([0-9]{1,18})$")
PHONE_RE = re.compile(r"^\+?[0-9]{3,20}$")
# Twilio's longest message (ten segments).
BODY_MAX = 1600


def webhook_signed(request) -> bool:
    """Whether the post carries the provider's valid signature of its public address and parameters."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    public_url = settings.SMS_WEBHOOK_BASE_URL + request.get_full_path()
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(public_url, request.POST, signature)


def _twiml() -> HttpResponse:
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@csrf_exempt
@require_POST
def text_inbound(request):
    """A patient's text to the clinic's number (Twilio's "A message comes in" webhook)."""
    if not webhook_signed(request):
        logger.warning("inbound text refused: missing or wrong signature")
        return HttpResponseForbidden("Signature required.")
    sid = request.POST.get("MessageSid", "")
    from_phone = request.POST.get("From", "").strip()
    body = request.POST.get("Body", "")
    if not PROVIDER_ID_RE.match(sid) or not PHONE_RE.match(from_phone) or len(body) > BODY_MAX:
        return HttpResponseBadRequest("Not a text message.")
    inbound_text_receive(provider_sid=sid, from_phone=from_phone, body=body)
    return _twiml()


@csrf_exempt
@require_POST
def text_status(request):
    """A delivery receipt for one of our texts (the StatusCallback the outbox sends each text with)."""
    if not webhook_signed(request):
        logger.warning("text receipt refused: missing or wrong signature")
        return HttpResponseForbidden("Signature required.")
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "").strip().lower()
    error_code = request.POST.get("ErrorCode", "").strip()
    if not PROVIDER_ID_RE.match(sid) or not status.isalpha() or len(status) > 20 or len(error_code) > 10:
        return HttpResponseBadRequest("Not a delivery receipt.")
    # The outbox row the receipt's address names (`callbacks.notifications.transports.sms.our_message_id`).
    ours = OUR_MESSAGE_ID_RE.match(request.GET.get("message", ""))
    text_receipt_record(
        provider_message_id=sid,
        status=status,
        error_code=error_code,
        notification_id=int(ours.group(1)) if ours else None,
    )
    return _twiml()
