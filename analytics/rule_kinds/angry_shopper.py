"""Anger in a shopper's message (投诉, 差评, 12315 …): found about the shopper, costs nobody points."""

from django.utils.translation import gettext_lazy as _

from .base import SHOPPER, RuleKindSpec

KIND = RuleKindSpec(senders=SHOPPER, words_help=_("the words of an angry shopper"))
