from django.core.management.base import BaseCommand, CommandError

from devtools.demo import analytics, history, knowledge, marketing, service, shops


class Command(BaseCommand):
    help = (
        "Load the demo shops, staff, products, orders and every area's demo data, then play the shops' "
        "history through the real services (idempotent)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--site", default="http://127.0.0.1:8000", help="the address the server will serve (printed; make run)"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=history.DAYS,
            help="days of conversations to play into each demo shop without any yet (0: none)",
        )

    def handle(self, *args, **options) -> None:
        days = options["days"]
        if not 0 <= days <= 90:
            raise CommandError("--days must be between 0 and 90")
        # Shops first: the other areas fill the demo shops; the history plays last, on all of it.
        logins = shops.load_demo()
        for area in (knowledge, marketing, analytics, service):
            area.load_demo()
        played = history.load_demo(days)
        if played is None:
            self.stdout.write("History not played: load_demo ran inside a transaction (services act after commit).")
        for slug, conversations in played or []:
            self.stdout.write(f"  {slug:<16} {conversations} conversations")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        site = options["site"].rstrip("/")
        self.stdout.write(f"Shopbee: {site}/  (back office {site}/admin/, agent console {site}/agent/)")
        self.stdout.write(f"Demo logins (password '{shops.DEMO_PASSWORD}'):")
        for username, what in logins:
            self.stdout.write(f"  {username:<16} {what}")
