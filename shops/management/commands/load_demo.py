import importlib
import importlib.util

from django.apps import apps
from django.core.management.base import BaseCommand

from shops.demo import DEMO_PASSWORD

# Apps contribute demo data through a ``demo`` module with a ``load_demo()`` function; shops come first.
DEMO_APPS = ["shops", "knowledge", "chat", "marketing", "analytics", "api"]


class Command(BaseCommand):
    help = "Load the demo shops, staff, products, orders and every app's demo data (idempotent)."

    def handle(self, *args, **options) -> None:
        logins: list[tuple[str, str]] = []
        for label in DEMO_APPS:
            module_name = f"{apps.get_app_config(label).name}.demo"
            if importlib.util.find_spec(module_name) is None:
                continue
            result = importlib.import_module(module_name).load_demo()
            if label == "shops":
                logins = result
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("Admin: http://127.0.0.1:8000/admin/")
        self.stdout.write(f"Demo logins (password '{DEMO_PASSWORD}'):")
        for username, what in logins:
            self.stdout.write(f"  {username:<16} {what}")
