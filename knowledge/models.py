"""FAQ knowledge: cards and their similar questions, synonyms, shop words, the unanswered queue, the answer log.

Every change that alters what the answer engine sees bumps the shop's knowledge ``core.ChangeStamp`` in
the same transaction (see ``knowledge.receivers``); each worker process compares that stamp before
answering and rebuilds its cached index when it moved.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shops.models import Product, Shop

# Separators accepted between the words of a synonym group or the items of a quick-reply list.
WORD_SEPARATORS = re.compile(r"[,，、|/;；\s]+")


def split_words(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in WORD_SEPARATORS.split(text or ""):
        if word:
            seen.setdefault(word, None)
    return list(seen)


class AnswerOutcome(models.TextChoices):
    ANSWER = "answer", _("Answered")
    CLARIFY = "clarify", _("Asked to clarify")
    FALLBACK = "fallback", _("Fell back to a human")


class FAQCard(models.Model):
    """One standard question with its answer. ``shop`` empty: an industry template card."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="faq_cards", verbose_name=_("shop")
    )
    industry = models.CharField(
        _("template industry"),
        max_length=20,
        choices=Shop.Industry.choices,
        blank=True,
        help_text=_("Only for industry template cards (no shop)."),
    )
    question = models.CharField(_("standard question"), max_length=200)
    answer = models.TextField(_("answer"))
    category = models.CharField(_("category"), max_length=50, blank=True)
    products = models.ManyToManyField(Product, blank=True, related_name="faq_cards", verbose_name=_("linked products"))
    quick_replies = models.JSONField(_("quick-reply buttons"), default=list, blank=True)
    image_url = models.URLField(_("image URL"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    template = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("copied from template"),
    )
    hit_count = models.PositiveIntegerField(_("hits"), default=0)
    last_hit_at = models.DateTimeField(_("last hit"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("FAQ card")
        verbose_name_plural = _("FAQ cards")
        ordering = ["shop", "category", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "question"], condition=Q(shop__isnull=False), name="faq_question_unique_per_shop"
            ),
            models.UniqueConstraint(
                fields=["industry", "question"],
                condition=Q(shop__isnull=True),
                name="faq_template_question_unique_per_industry",
            ),
            models.CheckConstraint(condition=Q(shop__isnull=False) | ~Q(industry=""), name="faq_template_has_industry"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="faq_valid_to_after_valid_from",
            ),
        ]
        indexes = [models.Index(fields=["shop", "enabled"]), models.Index(fields=["industry", "shop"])]

    def __str__(self) -> str:
        return self.question

    @property
    def is_template(self) -> bool:
        return self.shop_id is None

    def clean(self) -> None:
        if self.shop_id is None and not self.industry:
            raise ValidationError({"industry": _("A template card (no shop) needs an industry.")})
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": _("The end must come after the start.")})
        if not isinstance(self.quick_replies, list) or not all(isinstance(r, str) for r in self.quick_replies):
            raise ValidationError({"quick_replies": _("Quick replies are a list of texts.")})


class SimilarQuestion(models.Model):
    """Another way shoppers ask the card's question; the engine indexes these like the standard one."""

    card = models.ForeignKey(
        FAQCard, on_delete=models.CASCADE, related_name="similar_questions", verbose_name=_("card")
    )
    text = models.CharField(_("similar question"), max_length=200)

    class Meta:
        verbose_name = _("similar question")
        verbose_name_plural = _("similar questions")
        ordering = ["card", "pk"]
        constraints = [models.UniqueConstraint(fields=["card", "text"], name="similar_question_unique_per_card")]

    def __str__(self) -> str:
        return self.text


class SynonymGroup(models.Model):
    """Words that mean the same to a shopper; the engine maps each to ``canonical``. No shop: global."""

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, null=True, blank=True, related_name="synonym_groups", verbose_name=_("shop")
    )
    canonical = models.CharField(_("canonical word"), max_length=50)
    words = models.TextField(_("synonyms"), help_text=_("Separated by commas, spaces or 、."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["shop", "canonical"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "canonical"], condition=Q(shop__isnull=False), name="synonym_canonical_unique_per_shop"
            ),
            models.UniqueConstraint(
                fields=["canonical"], condition=Q(shop__isnull=True), name="synonym_canonical_unique_global"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.canonical} ← {self.words}"

    @property
    def word_list(self) -> list[str]:
        return [w for w in split_words(self.words) if w != self.canonical]


class DictionaryWord(models.Model):
    """A product name or brand word the segmenter must keep whole for this shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="dictionary_words", verbose_name=_("shop"))
    word = models.CharField(_("word"), max_length=50)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")
        ordering = ["shop", "word"]
        constraints = [models.UniqueConstraint(fields=["shop", "word"], name="dictionary_word_unique_per_shop")]

    def __str__(self) -> str:
        return self.word


class UnansweredQuestion(models.Model):
    """A question the bot could not answer; repeats of the same normalised text count up one row."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        IGNORED = "ignored", _("Ignored")

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="unanswered_questions", verbose_name=_("shop")
    )
    text = models.CharField(_("question"), max_length=500)
    normalized = models.CharField(_("normalised text"), max_length=500)
    times_asked = models.PositiveIntegerField(_("times asked"), default=1)
    first_asked_at = models.DateTimeField(_("first asked"), auto_now_add=True)
    last_asked_at = models.DateTimeField(_("last asked"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    resolved_card = models.ForeignKey(
        FAQCard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resolved_questions",
        verbose_name=_("resolved to card"),
    )

    class Meta:
        verbose_name = _("unanswered question")
        verbose_name_plural = _("unanswered questions")
        ordering = ["-last_asked_at"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "normalized"], name="unanswered_unique_per_shop"),
            models.CheckConstraint(condition=Q(times_asked__gte=1), name="unanswered_asked_at_least_once"),
        ]
        indexes = [models.Index(fields=["shop", "status", "last_asked_at"])]

    def __str__(self) -> str:
        return f"{self.text} ×{self.times_asked}"


class AnswerExperiment(models.Model):
    """A card's second answer on trial: shoppers are split by a stable hash (``core.splits``) between the card's
    own answer (A) and this one (B) while it runs; the trainer keeps the winner (``knowledge.experiments``)."""

    class Variant(models.TextChoices):
        A = "a", _("Answer A (the card's)")
        B = "b", _("Answer B (on trial)")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="answer_experiments", verbose_name=_("shop"))
    card = models.ForeignKey(FAQCard, on_delete=models.CASCADE, related_name="experiments", verbose_name=_("card"))
    answer_b = models.TextField(_("second answer (B)"), max_length=2000)
    # B's share of the shoppers, in %.
    share_b = models.PositiveSmallIntegerField(
        _("share seeing B (%)"), default=50, validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    kept = models.CharField(_("answer kept"), max_length=1, choices=Variant.choices, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )

    class Meta:
        verbose_name = _("answer experiment")
        verbose_name_plural = _("answer experiments")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"], condition=Q(ended_at__isnull=True), name="answer_experiment_one_running_per_card"
            ),
            models.CheckConstraint(
                condition=Q(share_b__gte=1, share_b__lte=99), name="answer_experiment_share_1_to_99"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, kept="") | Q(ended_at__isnull=False),
                name="answer_experiment_kept_only_when_ended",
            ),
        ]
        indexes = [models.Index(fields=["shop", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.card} · B: {self.answer_b[:30]}"

    @property
    def running(self) -> bool:
        return self.ended_at is None


class AnswerLog(models.Model):
    """Every bot answer: what was asked, which card answered, how sure the engine was, and the outcome; under
    a running answer experiment, which answer the shopper saw."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="answer_logs", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answer_logs",
        verbose_name=_("conversation"),
    )
    question = models.CharField(_("question"), max_length=500)
    card = models.ForeignKey(
        FAQCard, on_delete=models.SET_NULL, null=True, blank=True, related_name="answer_logs", verbose_name=_("card")
    )
    score = models.FloatField(_("confidence"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=AnswerOutcome.choices)
    experiment = models.ForeignKey(
        AnswerExperiment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="answer_logs",
        verbose_name=_("answer experiment"),
    )
    variant = models.CharField(_("answer shown"), max_length=1, choices=AnswerExperiment.Variant.choices, blank=True)
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer log entry")
        verbose_name_plural = _("answer log")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="answer_log_score_in_unit_range")
        ]
        indexes = [models.Index(fields=["shop", "created_at"]), models.Index(fields=["shop", "outcome", "created_at"])]

    def __str__(self) -> str:
        return f"{self.question} → {self.get_outcome_display()} ({self.score:.2f})"


class SwitchedOffPackEntry(models.Model):
    """A language pack entry (``knowledge.langpack``, id such as ``syn:发货``) a shop's engine does without.

    The pack is global by default; a row here switches one entry off for one shop. Ids a newer pack no longer
    has are ignored by the engine, so a pack upgrade never breaks a shop.
    """

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="switched_off_pack_entries", verbose_name=_("shop")
    )
    entry_id = models.CharField(_("pack entry"), max_length=120)
    switched_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("switched off by"),
    )
    created_at = models.DateTimeField(_("switched off at"), auto_now_add=True)

    class Meta:
        verbose_name = _("switched-off language pack entry")
        verbose_name_plural = _("switched-off language pack entries")
        ordering = ["shop", "entry_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "entry_id"], name="pack_entry_switched_off_once_per_shop"),
            models.CheckConstraint(condition=~Q(entry_id=""), name="pack_entry_id_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} ({self.shop})"


class GroundedAnswer(models.Model):
    """A reply the shop's large model wrote from the cards and products it was given, citing them (docs/llm.md).

    Only answers that were sent are kept: each cites at least one card or product, all of them given to the
    model. Trainers read them beside the answer log and turn a good one into a card.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="grounded_answers", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        "chat.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grounded_answers",
        verbose_name=_("conversation"),
    )
    question = models.CharField(_("question"), max_length=500)
    answer = models.TextField(_("answer"))
    cited_cards = models.JSONField(_("cited cards"), default=list, blank=True)
    cited_products = models.JSONField(_("cited products"), default=list, blank=True)
    card = models.ForeignKey(
        FAQCard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grounded_answers",
        verbose_name=_("card made from it"),
    )
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("model answer")
        verbose_name_plural = _("model answers")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"{self.question} → {self.answer[:40]}"


class CardProposal(models.Model):
    """A card the shop's large model proposed (docs/llm.md), from a pasted product page, an uploaded PDF or DOCX
    manual, or a group of unanswered questions; it quotes the passage it rests on. A trainer edits it, accepts it
    (it becomes a card) or drops it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To review")
        ACCEPTED = "accepted", _("Accepted")
        DROPPED = "dropped", _("Dropped")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="card_drafts", verbose_name=_("shop"))
    question = models.CharField(_("standard question"), max_length=200)
    similar = models.TextField(_("similar questions"), blank=True, help_text=_("One per line."))
    answer = models.TextField(_("answer"))
    source = models.TextField(_("source passage"), help_text=_("Quoted word for word from the material."))
    origin = models.CharField(_("drafted from"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    card = models.ForeignKey(
        FAQCard, on_delete=models.SET_NULL, null=True, blank=True, related_name="drafts", verbose_name=_("card")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card draft")
        verbose_name_plural = _("card drafts")
        ordering = ["-created_at", "pk"]
        indexes = [models.Index(fields=["shop", "status"])]

    def __str__(self) -> str:
        return self.question
