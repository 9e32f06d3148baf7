"""Marketing services. Other apps import from here:

- ``follow_up_candidates(shop, limit)``: customers ranked by purchase intent, with reasons
- ``bundle_suggestions(shop, product_ids)`` and ``addon_suggestions(shop, cart_total, coupons)``: 搭配 / 凑单
- ``live_answer(shop, text)``: the bot's answer about live streams, or None
- campaign running: ``scan_shop``, ``send_touch``, ``with_results``; scheduling: ``ensure_scan_schedule``
- control groups: ``campaign_arms(campaigns)``, the treated and held-out targets' outcomes
"""

from .bundles import AddonSuggestion, BundleSuggestion, addon_suggestions, bundle_suggestions, usable_coupons
from .campaigns import CampaignResults, ScanReport, SendOutcome, scan_shop, send_touch, with_results
from .copying import copy_campaign_to_shop
from .follow_up import FollowUpCandidate, follow_up_candidates
from .holdouts import Arm, CampaignArms, campaign_arms
from .live import live_answer
from .schedule import ensure_scan_schedule

__all__ = [
    "AddonSuggestion",
    "Arm",
    "BundleSuggestion",
    "CampaignArms",
    "CampaignResults",
    "FollowUpCandidate",
    "ScanReport",
    "SendOutcome",
    "addon_suggestions",
    "bundle_suggestions",
    "campaign_arms",
    "copy_campaign_to_shop",
    "ensure_scan_schedule",
    "follow_up_candidates",
    "live_answer",
    "scan_shop",
    "send_touch",
    "usable_coupons",
    "with_results",
]
