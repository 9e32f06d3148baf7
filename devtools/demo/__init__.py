"""Demo data, one module per area, each with an idempotent ``load_demo()``; ``manage.py load_demo`` runs them."""
