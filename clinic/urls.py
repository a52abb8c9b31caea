from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = f"{settings.CLINIC_NAME}: staff"
admin.site.site_title = settings.CLINIC_NAME
admin.site.index_title = "Requests and content"

urlpatterns = [
    path(settings.ADMIN_URL_PATH, admin.site.urls),
    path("", include("callbacks.urls")),
    path("", include("clinic.site_urls")),
]

handler400 = "clinic.errors.bad_request"
handler403 = "clinic.errors.permission_denied"
handler404 = "clinic.errors.page_not_found"
handler500 = "clinic.errors.server_error"
