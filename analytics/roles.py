"""Which shop roles reach which analytics pages and sockets (checked with shops.services.visible_shops)."""

from shops.models import Membership

Role = Membership.Role

# Findings, rules (read), reports, scorecards and the live alerts.
QA_ROLES = (Role.MANAGER, Role.QA)
# The KPI dashboard, and watching every trainee of a shop.
MANAGER_ROLES = (Role.MANAGER,)
# Practising as a trainee (managers also watch every trainee of their shops).
TRAINING_ROLES = (Role.MANAGER, Role.AGENT)
# The answer experiments' report, and keeping the winner: the shop's knowledge editors.
EXPERIMENT_ROLES = (Role.MANAGER, Role.TRAINER)
