"""QA reviewers' decisions on findings."""

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..models import QAFinding


def review_findings(findings: QuerySet[QAFinding], status: str, reviewer, comment: str | None = None) -> int:
    """Confirm, dismiss or reopen findings in one statement; a comment, when given (even empty), replaces the old one.

    The reviewer and the time are recorded with a decision and cleared when a finding is reopened.
    """
    if status not in QAFinding.Status.values:
        raise ValueError(f"not a finding status: {status}")
    reopened = status == QAFinding.Status.OPEN
    fields = {
        "status": status,
        "reviewer": None if reopened else reviewer,
        "reviewed_at": None if reopened else timezone.now(),
    }
    if comment is not None:
        fields["comment"] = comment
    with transaction.atomic():
        return findings.update(**fields)
