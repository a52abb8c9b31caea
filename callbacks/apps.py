from django.apps import AppConfig


def _booking_page_changed(sender, **kwargs):
    from clinic.public_pages import public_pages_changed

    public_pages_changed()


class CallbacksConfig(AppConfig):
    name = "callbacks"
    verbose_name = "Callback requests"

    def ready(self):
        # The public booking page lists the services that an active practitioner offers, and is kept by every web
        # process (clinic.public_pages): any change to a service, a practitioner or who offers what refreshes it.
        # Imported here: models exist only once the apps are loaded.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from callbacks.models import Practitioner, Service

        for model in (Service, Practitioner):
            post_save.connect(_booking_page_changed, sender=model, dispatch_uid=f"public-pages-{model.__name__}-save")
            post_delete.connect(
                _booking_page_changed, sender=model, dispatch_uid=f"public-pages-{model.__name__}-delete"
            )
        m2m_changed.connect(
            _booking_page_changed, sender=Practitioner.services.through, dispatch_uid="public-pages-offers"
        )
