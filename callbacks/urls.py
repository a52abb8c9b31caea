from django.urls import path

from callbacks import views

app_name = "callbacks"

# <flow> is a random id for one patient's way through the questions; answers stay in the session, never here.
urlpatterns = [
    path("request-a-callback/", views.callback_request, name="request"),
    path("request-a-callback/thank-you/", views.callback_done, name="done"),
    path("request-a-callback/<slug:flow>/questions/<slug:step>/", views.callback_request_step, name="step"),
    path("request-a-callback/<slug:flow>/get-help-now/", views.callback_request_emergency, name="emergency"),
    path("request-a-callback/<slug:flow>/your-details/", views.callback_request_contact, name="contact"),
    path("privacy/", views.privacy_notice, name="privacy"),
]
