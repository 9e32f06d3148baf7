"""Promises the shop must not make (保证, 绝对, 假一赔十 …), said by an agent or the bot."""

from django.utils.translation import gettext_lazy as _

from .base import SHOP_SIDE, RuleKindSpec

KIND = RuleKindSpec(senders=SHOP_SIDE, before_send=True, words_help=_("the promises not to make"))
