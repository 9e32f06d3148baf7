"""Shared infrastructure tables. ``core`` imports no project app, so shops are referred to by id."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeStamp(models.Model):
    """How many times a shop's cached thing of one kind has changed: every per-process ``ShopCache``
    compares its entry with this counter (see core.caching), every writer of those rows moves it.

    ``shop_id`` 0 holds the changes that concern every shop (global synonyms, global QA rules).
    """

    GLOBAL = 0

    class Kind(models.TextChoices):
        KNOWLEDGE = "knowledge", _("Knowledge (cards, similar questions, synonyms, shop words)")
        CATALOGUE = "catalogue", _("Product catalogue")
        QA_RULES = "qa_rules", _("QA rules")
        SERVICE_HOURS = "service_hours", _("Service hours (weekly windows, holidays, timezone)")

    # No foreign key: core sits below shops. The unique constraint's index leads with shop_id.
    shop_id = models.BigIntegerField(_("shop id (0: every shop)"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("change stamp")
        verbose_name_plural = _("change stamps")
        constraints = [models.UniqueConstraint(fields=["shop_id", "kind"], name="core_changestamp_shop_kind")]

    def __str__(self) -> str:
        shop = _("every shop") if self.shop_id == self.GLOBAL else f"#{self.shop_id}"
        return f"{self.get_kind_display()} · {shop} · v{self.version}"
