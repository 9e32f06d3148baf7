from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from . import (
            receivers,  # noqa: F401
            tasks,  # noqa: F401  (registers send_touches, which the services enqueue by name)
        )
