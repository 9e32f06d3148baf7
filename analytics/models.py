"""Quality inspection: the rules every message is checked against, what they found, daily reports,
and the training sessions of new agents."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.models import Conversation, Message
from shops.models import Shop

from .rule_kinds import KINDS, THRESHOLD_KINDS, WORD_KINDS, RuleKind
from .rule_kinds.base import OnSend


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class QARule(models.Model):
    # One module per kind in analytics/rule_kinds: its inputs and its inspection.
    Kind = RuleKind
    OnSend = OnSend

    shop = models.ForeignKey(
        Shop,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="qa_rules",
        verbose_name=_("shop"),
        help_text=_("Empty: a global rule applied to every shop."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    words = models.TextField(
        _("words"),
        blank=True,
        help_text=_("For word rules: one word or phrase per line (commas and 、 also separate)."),
    )
    threshold = models.PositiveIntegerField(
        _("threshold"),
        null=True,
        blank=True,
        help_text=_("Seconds for the slow-response rules, number of fallbacks in a row for the streak rule."),
    )
    on_send = models.CharField(
        _("before sending"),
        max_length=10,
        choices=OnSend.choices,
        default=OnSend.HOLD,
        help_text=_(
            "For banned words, forbidden promises and personal data: a bot reply that breaks the rule is replaced "
            "by the safe fallback; an agent's reply is held with the reason."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("QA rule")
        verbose_name_plural = _("QA rules")
        ordering = ["shop__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "name"], name="qa_rule_name_unique_per_shop"),
            models.UniqueConstraint(fields=["name"], condition=Q(shop__isnull=True), name="qa_rule_global_name_unique"),
            models.CheckConstraint(
                condition=~Q(kind__in=THRESHOLD_KINDS) | Q(threshold__gt=0),
                name="qa_rule_threshold_kinds_have_threshold",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=WORD_KINDS) | ~Q(words=""),
                name="qa_rule_word_kinds_have_words",
            ),
        ]
        indexes = [models.Index(fields=["shop", "enabled"])]

    def __str__(self) -> str:
        where = self.shop or _("all shops")
        return f"{self.name} ({where} · {self.get_severity_display()})"

    def clean(self) -> None:
        if self.kind in RuleKind.values:  # an unknown kind is the field's own error
            KINDS[RuleKind(self.kind)].validate(self.words, self.threshold)


class QAFinding(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    class Actor(models.TextChoices):
        AGENT = "agent", _("Agent")
        BOT = "bot", _("Bot")
        SHOPPER = "shopper", _("Shopper")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="qa_findings", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="qa_findings", verbose_name=_("conversation")
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="qa_findings",
        verbose_name=_("message"),
        help_text=_("Empty for a finding about the whole conversation."),
    )
    rule = models.ForeignKey(QARule, on_delete=models.PROTECT, related_name="findings", verbose_name=_("rule"))
    # Copied from the rule when found: reports stay true after a rule is edited.
    kind = models.CharField(_("kind"), max_length=30, choices=QARule.Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    # Whose conduct the finding is about: the agent (with ``agent`` set), the bot, or the shopper.
    actor = models.CharField(_("about"), max_length=10, choices=Actor.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qa_findings",
        verbose_name=_("agent"),
    )
    # What matched, personal data masked (138****5678); seconds or counts for the timing rules.
    evidence = models.CharField(_("evidence"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qa_reviews",
        verbose_name=_("reviewer"),
    )
    comment = models.TextField(_("reviewer comment"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("found at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("QA finding")
        verbose_name_plural = _("QA findings")
        ordering = ["-created_at"]
        constraints = [
            # Inspection can run twice on the same message (a retry): it finds each thing once.
            models.UniqueConstraint(
                fields=["rule", "message"], condition=Q(message__isnull=False), name="qa_finding_once_per_message"
            ),
            models.UniqueConstraint(
                fields=["rule", "conversation"],
                condition=Q(message__isnull=True),
                name="qa_finding_once_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(reviewed_at__isnull=False), name="qa_finding_reviewed_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "created_at"]),
            models.Index(fields=["shop", "agent", "created_at"]),
            models.Index(fields=["conversation", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_severity_display()} · #{self.conversation_id}"


class QAReport(models.Model):
    """One day's quality figures of a shop: the whole shop, the bot, and each agent."""

    class Scope(models.TextChoices):
        SHOP = "shop", _("Whole shop")
        BOT = "bot", _("Bot")
        AGENT = "agent", _("Agent")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="qa_reports", verbose_name=_("shop"))
    day = models.DateField(_("day"))
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="qa_reports",
        verbose_name=_("agent"),
    )
    conversations = models.PositiveIntegerField(_("conversations"), default=0)
    messages = models.PositiveIntegerField(_("messages"), default=0)
    findings = models.PositiveIntegerField(_("findings"), default=0)
    high_findings = models.PositiveIntegerField(_("high-severity findings"), default=0)
    # {rule kind: count} of the day's findings that were not dismissed.
    findings_by_rule = models.JSONField(_("findings by rule"), default=dict, blank=True)
    score = models.DecimalField(_("score (0-100)"), max_digits=5, decimal_places=1)
    built_at = models.DateTimeField(_("built at"), auto_now=True)

    class Meta:
        verbose_name = _("QA report")
        verbose_name_plural = _("QA reports")
        ordering = ["-day", "shop", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "day", "scope"], condition=Q(agent__isnull=True), name="qa_report_one_per_scope_day"
            ),
            models.UniqueConstraint(
                fields=["shop", "day", "agent"], condition=Q(agent__isnull=False), name="qa_report_one_per_agent_day"
            ),
            models.CheckConstraint(
                condition=(Q(scope="agent") & Q(agent__isnull=False)) | (~Q(scope="agent") & Q(agent__isnull=True)),
                name="qa_report_agent_only_for_agent_scope",
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="qa_report_score_0_to_100"),
        ]
        indexes = [models.Index(fields=["shop", "day"]), models.Index(fields=["agent", "day"])]

    def __str__(self) -> str:
        who = self.agent if self.agent_id else self.get_scope_display()
        return f"{self.shop} · {self.day} · {who}: {self.score}"


class TrainingSession(models.Model):
    """A trainee answering a simulated shopper (模拟客服): a replayed conversation or FAQ questions."""

    class Source(models.TextChoices):
        CONVERSATION = "conversation", _("Replay of a past conversation")
        FAQ = "faq", _("Questions from the FAQ cards")

    class Status(models.TextChoices):
        ACTIVE = "active", _("In progress")
        FINISHED = "finished", _("Finished")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="training_sessions", verbose_name=_("shop"))
    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_sessions",
        verbose_name=_("trainee"),
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_sessions",
        verbose_name=_("replayed conversation"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    score = models.DecimalField(_("score (0-100)"), max_digits=5, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="training_score_0_to_100"
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(finished_at__isnull=False), name="training_finished_has_time"
            ),
        ]
        indexes = [models.Index(fields=["shop", "trainee", "started_at"])]

    def __str__(self) -> str:
        return f"{self.trainee} · {self.get_source_display()} · {self.get_status_display()}"


class TrainingTurn(models.Model):
    """One simulated shopper question, its reference answer, and the trainee's scored reply."""

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="turns", verbose_name=_("session")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    question = models.TextField(_("shopper's question"))
    reference_answer = models.TextField(_("reference answer"))
    reply = models.TextField(_("trainee's reply"), blank=True)
    similarity = models.FloatField(_("similarity to the reference"), null=True, blank=True)
    # Rule kinds the reply broke, e.g. ["forbidden_promise"].
    violations = models.JSONField(_("QA rules broken"), default=list, blank=True)
    score = models.DecimalField(_("score (0-100)"), max_digits=5, decimal_places=1, null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("training turn")
        verbose_name_plural = _("training turns")
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="training_turn_position_unique"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="training_turn_score_0_to_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.question[:40]}"
