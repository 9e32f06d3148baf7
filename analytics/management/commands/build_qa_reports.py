from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from analytics.services.reports import build_reports, build_yesterdays_reports


class Command(BaseCommand):
    help = "Build (or rebuild) the QA reports of one day or a range of days; each shop's yesterday by default."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--day", help="First day, YYYY-MM-DD (default: each shop's yesterday in its timezone).")
        parser.add_argument("--days", type=int, default=1, help="How many days from --day (default 1).")

    def handle(self, *args, day: str | None, days: int, **options) -> None:
        if day is None:
            if days != 1:
                raise CommandError("--days needs --day.")
            rows = build_yesterdays_reports(timezone.now())
            self.stdout.write(f"yesterday (each shop's own): {rows} report rows")
            return
        try:
            first = date.fromisoformat(day)
        except ValueError:
            raise CommandError(f"--day must be a date like 2026-11-20, not {day!r}.") from None
        if not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        for n in range(days):
            current = first + timedelta(days=n)
            rows = build_reports(current)
            self.stdout.write(f"{current}: {rows} report rows")
