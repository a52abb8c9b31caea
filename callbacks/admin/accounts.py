"""Staff accounts' authenticators in the admin: who has one and its sign-in state, never its secret.

django-otp's own screen shows a new device's key, offers its QR code, and (before the allow-list of
clinic.admin_lookups) answered `?key__startswith=` with a yes or no. Here the key is in no list, form, page or
lookup, and devices are enrolled only with `manage.py staff_totp_enrol`, which shows the key once to the
administrator who runs it. An administrator who knows the account's owner is who is signing in may set the wrong
codes count ("Throttling") back to 0 on the device's page, which ends the growing delay at once.
"""

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class StaffAuthenticatorAdmin(TOTPDeviceAdmin):
    list_display = ("user", "name", "created_at", "last_used_at", "confirmed", "throttling_failure_count")
    exclude = ("key",)

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field not in {"key", "qrcode_link"}]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_urls(self):
        # django-otp's QR code and configuration pages carry the key: this screen has neither.
        return ModelAdmin.get_urls(self)

    def has_add_permission(self, request):
        return False
