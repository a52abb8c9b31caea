"""The staff admin site: two-factor sign-in (when ADMIN_REQUIRE_2FA is on) and the day at a glance on its home.

Installed in place of ``django.contrib.admin`` (see INSTALLED_APPS), so every ``@admin.register`` lands here.
This module is imported while Django loads its apps: it must not import models at the top.
"""

from django.conf import settings
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.sites import AdminSite


class ClinicAdminSite(AdminSite):
    login_template = "admin/staff_login.html"
    # The queue needs the width more than a second list of models: the home page lists them already.
    enable_nav_sidebar = False

    @property
    def login_form(self):
        from django.contrib.admin.forms import AdminAuthenticationForm

        from callbacks.admin_forms import StaffTwoFactorLoginForm

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

    def each_context(self, request):
        context = super().each_context(request)
        context["admin_require_2fa"] = settings.ADMIN_REQUIRE_2FA
        return context

    def index(self, request, extra_context=None):
        from callbacks.admin_chart import bar_chart
        from callbacks.models import CallbackRequest
        from callbacks.selectors import callback_requests_per_day, triage_day_at_a_glance

        extra_context = dict(extra_context or {})
        if request.user.has_perm(f"callbacks.view_{CallbackRequest._meta.model_name}"):
            extra_context["glance"] = triage_day_at_a_glance()
            extra_context["requests_chart"] = bar_chart(callback_requests_per_day(days=settings.ADMIN_CHART_DAYS))
        return super().index(request, extra_context)


class ClinicAdminConfig(AdminConfig):
    default_site = "callbacks.admin_site.ClinicAdminSite"
