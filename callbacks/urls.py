from django.urls import path

from callbacks.web import booking as booking_views
from callbacks.web import callback as views
from callbacks.web import feeds as feed_views
from callbacks.web import followups as follow_up_views
from callbacks.web import prepare as prepare_views
from callbacks.web import recheck
from callbacks.web import reschedule as reschedule_views
from callbacks.web import texts as text_views
from callbacks.web import waitlist as waitlist_views

app_name = "callbacks"

# <flow> is a random id for one patient's way through the questions; answers stay in the session, never here.
urlpatterns = [
    path("request-a-callback/", views.callback_request, name="request"),
    path("request-a-callback/thank-you/", views.callback_done, name="done"),
    path("request-a-callback/<slug:flow>/questions/<slug:step>/", views.callback_request_step, name="step"),
    path("request-a-callback/<slug:flow>/get-help-now/", views.callback_request_emergency, name="emergency"),
    path("request-a-callback/<slug:flow>/before-you-send/", recheck.callback_request_recheck, name="recheck"),
    path("request-a-callback/<slug:flow>/your-details/", views.callback_request_contact, name="contact"),
    # The rest of the questionnaire, after the request is stored: a signed link, usable on any device.
    path("your-questions/<str:token>/", prepare_views.questionnaire_continue, name="prepare"),
    path("your-questions/<str:token>/a-quick-check/", prepare_views.questionnaire_continue_check, name="prepare_check"),
    path("your-questions/<str:token>/<slug:step>/", prepare_views.questionnaire_continue_step, name="prepare_step"),
    # Outcome follow-ups, by the signed links of their e-mails: answer one (once), or stop them all.
    path("how-is-your-back/thank-you/", follow_up_views.follow_up_done, name="follow_up_done"),
    path("how-is-your-back/stop/<str:token>/", follow_up_views.follow_ups_stop_confirm, name="follow_ups_stop"),
    path("how-is-your-back/<str:token>/", follow_up_views.follow_up_answer, name="follow_up"),
    path("privacy/", views.privacy_notice, name="privacy"),
    # Booking: the questionnaire and details pages above are shared; the flow remembers the chosen slot.
    path("book/", booking_views.booking_services, name="booking_services"),
    path("book/confirmed/", booking_views.booking_done, name="booking_done"),
    path("book/<int:service>/", booking_views.booking_slots, name="booking_slots"),
    path("book/<slug:flow>/change-time/", booking_views.booking_change_time, name="booking_change_time"),
    path("book/cancel/<str:token>/", booking_views.booking_cancel, name="booking_cancel"),
    path("book/change/<str:token>/", reschedule_views.booking_reschedule, name="booking_reschedule"),
    path("book/<int:service>/waitlist/", waitlist_views.waitlist_join, name="waitlist_join"),
    path("book/waitlist/joined/", waitlist_views.waitlist_joined, name="waitlist_joined"),
    path("book/offer/<str:token>/", waitlist_views.waitlist_offer, name="waitlist_offer"),
    # A practitioner's diary for their calendar app: the secret in the address is the only key.
    path("calendar/<str:token>.ics", feed_views.calendar_feed, name="calendar_feed"),
    # The text provider's webhooks (signed by the provider; README, "Text messages").
    path("texts/inbound/", text_views.text_inbound, name="text_inbound"),
    path("texts/status/", text_views.text_status, name="text_status"),
]
