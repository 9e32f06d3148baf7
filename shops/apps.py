from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shops"
    verbose_name = _("Shops")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the quota check and the catalogue stamp)
