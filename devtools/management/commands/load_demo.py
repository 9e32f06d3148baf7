from django.core.management.base import BaseCommand

from devtools.demo import analytics, knowledge, marketing, service, shops


class Command(BaseCommand):
    help = "Load the demo shops, staff, products, orders and every area's demo data (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--site", default="http://127.0.0.1:8000", help="the address the server will serve (printed; make run)"
        )

    def handle(self, *args, **options) -> None:
        # Shops first: the other areas fill the demo shops.
        logins = shops.load_demo()
        for area in (knowledge, marketing, analytics, service):
            area.load_demo()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        site = options["site"].rstrip("/")
        self.stdout.write(f"Shopbee: {site}/  (back office {site}/admin/, agent console {site}/agent/)")
        self.stdout.write(f"Demo logins (password '{shops.DEMO_PASSWORD}'):")
        for username, what in logins:
            self.stdout.write(f"  {username:<16} {what}")
