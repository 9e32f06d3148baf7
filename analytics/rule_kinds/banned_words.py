"""Rude or banned words said by the shop's side (an agent or the bot)."""

from django.utils.translation import gettext_lazy as _

from .base import SHOP_SIDE, RuleKindSpec

KIND = RuleKindSpec(senders=SHOP_SIDE, before_send=True, words_help=_("the rude or banned words"))
