from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevtoolsConfig(AppConfig):
    """Benchmarks, evaluation suites and demo data: tools for developers, never imported by the product apps."""

    name = "devtools"
    verbose_name = _("Developer tools")
