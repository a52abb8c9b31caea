from django.urls import path

from callbacks import views

app_name = "callbacks"

urlpatterns = [
    path("request-a-callback/", views.callback_request, name="request"),
    path("request-a-callback/thank-you/", views.callback_done, name="done"),
]
