from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from callbacks import services
from callbacks.consent import CURRENT_CONSENT_VERSION
from callbacks.forms import CallbackRequestForm

SESSION_REFERENCE_KEY = "callbacks_last_reference"


@require_http_methods(["GET", "POST"])
def callback_request(request):
    form = CallbackRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = services.callback_request_create(
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            window_start=data["window_start"],
            window_end=data["window_end"],
            reason=data["reason"],
            consent_version=CURRENT_CONSENT_VERSION,
        )
        request.session[SESSION_REFERENCE_KEY] = created.reference
        return redirect("callbacks:done")
    return render(request, "callbacks/request_form.html", {"form": form})


@require_http_methods(["GET"])
def callback_done(request):
    reference = request.session.get(SESSION_REFERENCE_KEY)
    if reference is None:
        return redirect("callbacks:request")
    return render(request, "callbacks/request_done.html", {"reference": reference})
