"""The app's configuration, and the staff admin site that replaces Django's default one.

`ClinicAdminSite` lives here, not in `callbacks.admin`: Django creates the default site lazily on the first
``@admin.register``, and importing it from the `callbacks.admin` package would run that package's registrations
in the middle of creating the site (they would land on a site that is then thrown away). This module is imported
while Django loads its apps, so the site imports models and admin helpers inside its methods.
"""

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps
from django.contrib.admin.sites import AdminSite


def _booking_page_changed(sender, **kwargs):
    from clinic.public_pages import public_pages_changed

    public_pages_changed()


class CallbacksConfig(AppConfig):
    default = True
    name = "callbacks"
    verbose_name = "Callback requests"

    def ready(self):
        # The public booking page lists the services that an active practitioner offers, and is kept by every web
        # process (clinic.public_pages): any change to a service, a practitioner or who offers what refreshes it.
        # Imported here: models exist only once the apps are loaded.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        # The outbox queues the sending task by name, so every process that writes notifications registers it.
        from callbacks import tasks  # noqa: F401
        from callbacks.models import Practitioner, Service

        for model in (Service, Practitioner):
            post_save.connect(_booking_page_changed, sender=model, dispatch_uid=f"public-pages-{model.__name__}-save")
            post_delete.connect(
                _booking_page_changed, sender=model, dispatch_uid=f"public-pages-{model.__name__}-delete"
            )
        m2m_changed.connect(
            _booking_page_changed, sender=Practitioner.services.through, dispatch_uid="public-pages-offers"
        )

        # A freed slot is offered to the waitlist in the transaction that frees it (see callbacks.booking.events).
        from callbacks.booking.events import slot_freed
        from callbacks.booking.waitlist import slot_freed_receiver

        slot_freed.connect(slot_freed_receiver, dispatch_uid="waitlist-offers")

        # Every save or delete that changes what a day's attendance figures count marks that day for counting again.
        from callbacks.booking.attendance_days import attendance_days_receivers_connect

        attendance_days_receivers_connect()


class ClinicAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the clinic's site as ``admin.site``; named in INSTALLED_APPS in its place."""

    default = False
    default_site = "callbacks.apps.ClinicAdminSite"


# The admin home lists the clinic's own work first, in this order; the technical sections (accounts, lockouts,
# authenticators) come last, apart, and only for those whose permissions show them at all.
CLINIC_APPS = ("callbacks", "intake", "clinic")
CLINIC_MODELS_FIRST = ("CallbackRequest", "Appointment")
TECHNICAL_APPS = frozenset({"auth", "axes", "otp_totp", "otp_static", "django_otp"})


class ClinicAdminSite(AdminSite):
    """Two-factor sign-in (when ADMIN_REQUIRE_2FA is on), the lookup allow-list on every list, and the day at a
    glance on the home page."""

    login_template = "admin/staff_login.html"
    # The queue needs the width more than a second list of models: the home page lists them already.
    enable_nav_sidebar = False

    @property
    def login_form(self):
        from django.contrib.admin.forms import AdminAuthenticationForm

        from callbacks.admin.forms import StaffTwoFactorLoginForm

        return StaffTwoFactorLoginForm if settings.ADMIN_REQUIRE_2FA else AdminAuthenticationForm

    def has_permission(self, request):
        """Active staff only; with two-factor on, only once a TOTP code has verified this session.

        A signed-in user who has not passed the second step is treated like a stranger and sent to sign in.
        """
        if not super().has_permission(request):
            return False
        if not settings.ADMIN_REQUIRE_2FA:
            return True
        is_verified = getattr(request.user, "is_verified", None)
        return bool(is_verified and is_verified())

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list, the third-party ones (auth, axes, django-otp) too, accepts only the lookups its filters
        offer (clinic.admin_lookups)."""
        from django.contrib.admin import ModelAdmin

        from clinic.admin_lookups import offered_lookups_only

        super().register(model_or_iterable, offered_lookups_only(admin_class or ModelAdmin), **options)

    def each_context(self, request):
        context = super().each_context(request)
        context["admin_require_2fa"] = settings.ADMIN_REQUIRE_2FA
        return context

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        order = {label: index for index, label in enumerate(CLINIC_APPS)}
        apps.sort(key=lambda app: (app["app_label"] in TECHNICAL_APPS, order.get(app["app_label"], len(order))))
        first = {name: index for index, name in enumerate(CLINIC_MODELS_FIRST)}
        for app in apps:
            app["models"].sort(key=lambda model: first.get(model["object_name"], len(first)))
        return apps

    def index(self, request, extra_context=None):
        from django.urls import reverse

        from callbacks.admin.attendance import attendance_figures_home
        from callbacks.admin.chart import bar_chart
        from callbacks.admin.outcome_report import clinic_today
        from callbacks.models import CallbackRequest
        from callbacks.requests.capacity import capacity_today
        from callbacks.requests.selectors import callback_requests_per_day, triage_day_at_a_glance

        extra_context = dict(extra_context or {})
        if request.user.has_perm(f"callbacks.view_{CallbackRequest._meta.model_name}"):
            extra_context["glance"] = triage_day_at_a_glance()
            extra_context["requests_chart"] = bar_chart(callback_requests_per_day(days=settings.ADMIN_CHART_DAYS))
            extra_context["capacity_today"] = capacity_today()
            extra_context["attendance"] = attendance_figures_home(request, today=clinic_today())
            if request.user.has_perm("callbacks.view_intakecapacity"):
                extra_context["capacity_url"] = reverse("admin:callbacks_intakecapacity_changelist")
        extra_context["desk_links"] = self._desk_links(request)
        apps = self.get_app_list(request)
        extra_context["clinic_apps"] = [app for app in apps if app["app_label"] not in TECHNICAL_APPS]
        extra_context["technical_apps"] = [app for app in apps if app["app_label"] in TECHNICAL_APPS]
        return super().index(request, extra_context)

    @staticmethod
    def _desk_links(request) -> list[tuple[str, str]]:
        """The front desk's day, first on the home page: the queue, today's diary, booking, one's own feed; and the
        clinic's outcome report for those who may see it."""
        from django.urls import reverse

        user, links = request.user, []
        if user.has_perm("callbacks.view_callbackrequest"):
            links.append(("Callback queue", reverse("admin:callbacks_callbackrequest_changelist")))
        if user.has_perm("callbacks.view_appointment"):
            links.append(("Today's diary", reverse("admin:callbacks_appointment_diary")))
            links.append(("This week", reverse("admin:callbacks_appointment_diary") + "?view=week"))
        if user.has_perm("callbacks.add_appointment"):
            links.append(("Book for a caller", reverse("admin:callbacks_appointment_book")))
        if getattr(user, "practitioner", None) is not None:
            links.append(("My calendar feed", reverse("admin:callbacks_appointment_feed")))
        if user.has_perm("callbacks.view_outcome_report"):
            links.append(("Outcome report", reverse("admin:callbacks_callbackrequest_outcome_report")))
        return links
