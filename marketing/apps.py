from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from chat.dialogue import registry

        from . import (
            dialogue,
            kinds,
            models,
            receivers,  # noqa: F401
            tasks,  # noqa: F401  (registers send_touches, which the services enqueue by name)
        )

        # Live streams, 搭配 and 凑单 name products too: asked before product recommendation reads them.
        registry.register(dialogue.HANDLER, before="recommend")
        # The kinds read the models, so the models learn what the kinds declare from here.
        models.declared.template_variables = tuple(kinds.TEMPLATE_VARIABLES)
        models.declared.checks = {kind: spec.checks for kind, spec in kinds.KINDS.items()}
