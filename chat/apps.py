from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from django.conf import settings

        from .services import staff_access_changed

        # A removed role or a deactivated user takes the agent off their consoles and conversations at once.
        for signal in (post_save, post_delete):
            signal.connect(staff_access_changed, sender="shops.Membership", dispatch_uid=f"chat.access.{signal}")
        post_save.connect(staff_access_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="chat.access.user")
