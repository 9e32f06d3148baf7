from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from .dialogue.catalogue import forget_shop_products

        for signal in (post_save, post_delete):
            signal.connect(forget_shop_products, sender="shops.Product", dispatch_uid=f"chat.catalogue.{signal}")
