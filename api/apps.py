from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = _("Open platform")

    def ready(self) -> None:
        from .receivers import connect_webhook_sources

        connect_webhook_sources()
