"""Shopbee settings.

Everything comes from the environment. With nothing set, Shopbee runs embedded:
SQLite, Channels' in-memory layer and Celery tasks executed in-process. Setting
DATABASE_URL and REDIS_URL switches to PostgreSQL, channels-redis and a Celery
broker on Redis, which is how it runs on more than one process or machine.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Off unless asked for: `make run` and the test settings (config.test_settings) turn it on for local use.
DEBUG = env.bool("DEBUG", default=False)
_LOCAL_ONLY_SECRET = "shopbee-local-only-secret-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: a production start (DEBUG=false) needs SECRET_KEY in the environment."
        )
    SECRET_KEY = _LOCAL_ONLY_SECRET
# Encrypts the secrets Shopbee must read back (channel credentials, core/crypto.py); derived from SECRET_KEY
# when unset, which then must never change.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "core",
    "shops",
    "knowledge",
    "chat",
    "marketing",
    "analytics",
    "api",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
]

# --- back office: the admin theme (django-unfold, docs/backoffice.md) ---------------------------------------
# Unfold's app comes before django.contrib.admin: its templates and its admin site replace the stock ones.
INSTALLED_APPS = ["unfold", "unfold.contrib.import_export", *INSTALLED_APPS]
UNFOLD = {
    "SITE_TITLE": _("Shopbee"),
    "SITE_HEADER": _("Shopbee 店小蜂 客服后台"),
    "SITE_SYMBOL": "hive",
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
    "DASHBOARD_CALLBACK": "config.backoffice.role_home",
    "LOGIN": {"form": "config.backoffice.BackOfficeLoginForm"},
    "COLORS": {
        "primary": {
            weight: f"oklch({lightness}% {chroma} 70)"
            for weight, lightness, chroma in (
                ("50", 98.7, 0.022),
                ("100", 96.2, 0.059),
                ("200", 92.4, 0.12),
                ("300", 87.9, 0.169),
                ("400", 82.8, 0.189),
                ("500", 76.9, 0.188),
                ("600", 66.6, 0.179),
                ("700", 55.4, 0.135),
                ("800", 47.6, 0.114),
                ("900", 41.4, 0.112),
                ("950", 27.9, 0.077),
            )
        }
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": "config.backoffice.is_superuser",
        "navigation": "config.backoffice.navigation",
    },
}
# Unfold's components run on Alpine.js, which evaluates its attribute expressions with new Function: the
# admin's pages (behind the staff login) allow 'unsafe-eval'; every other page keeps the strict policy.
CONTENT_SECURITY_POLICY_ADMIN = env.str(
    "CONTENT_SECURITY_POLICY_ADMIN",
    default="default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
MIDDLEWARE.append("config.backoffice.AdminContentSecurityPolicyMiddleware")  # after the general policy
# --- end back office ------------------------------------------------------------------------------------------

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Channels runs ORM calls in one sync thread per process: a persistent connection there saves a
# connect per socket frame. DATABASE_POOL=true uses psycopg's pool instead (PostgreSQL only).
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASE_POOL else env.int("CONN_MAX_AGE", default=600)
if DATABASE_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env.int("DATABASE_POOL_SIZE", default=10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_PREPARED", default=True):
    # Server-side parameters and psycopg's automatic prepared statements: the chat's few statements,
    # run thousands of times, are parsed and planned once per connection instead of every time.
    # DATABASE_PREPARED=false behind a transaction-pooling PgBouncer, which cannot keep them.
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the chat workers read while a write is in flight; the timeout rides out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

REDIS_CHANNEL_LAYERS = {
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core": "channels_redis.core.RedisChannelLayer",
}
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="pubsub")
if CHANNEL_LAYER not in REDIS_CHANNEL_LAYERS:
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be one of {', '.join(REDIS_CHANNEL_LAYERS)}, not {CHANNEL_LAYER!r}")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # The Pub/Sub layer: a group event is one PUBLISH, pushed to the processes whose sockets
            # joined the group. The classic layer (CHANNEL_LAYER=core) keeps messages in sorted sets and
            # polls them: about 20 Redis commands per chat message against 2, and a third fewer chat
            # messages per second (README, load test). Chat messages are stored before any event is
            # sent, so an event that finds no listener loses nothing: the socket's resume gets it.
            "BACKEND": REDIS_CHANNEL_LAYERS[CHANNEL_LAYER],
            # redis-py fails (rather than waits) past its pool size, default 100: a burst of socket
            # connects or disconnects needs one connection per concurrent group operation.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=2000)}]
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "chat.layers.EmbeddedChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: in-process unless a broker is configured. Redis with REDIS_URL (production); CELERY_BROKER_URL=
# filesystem:// is the embedded broker `make run` starts a worker and beat on (Kombu's file-system transport:
# messages are files in CELERY_BROKER_FOLDER, nothing to install; docs/backoffice.md).
CELERY_BROKER_URL = REDIS_URL or env.str("CELERY_BROKER_URL", default="memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = Path(env.str("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".celery")))
    # One folder both ways: every process sends into it and the worker reads from it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
    }
    # The transport reads folders it does not create: made by whichever process starts first.
    for _folder in ("queue", "control"):
        (_broker_folder / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# FAQ cards' hit counts are brought up to date from the answer log this often (knowledge.tasks).
CARD_HITS_EVERY_SECONDS = 60.0
# Fixed schedules; beat copies them into django-celery-beat's tables, where they can be edited.
CELERY_BEAT_SCHEDULE = {
    "close-idle-conversations": {"task": "chat.tasks.close_idle_conversations", "schedule": 300.0},
    # SLA response targets are minutes: a breach reaches the managers' alert bar within this many seconds.
    "check-sla-breaches": {"task": "chat.tasks.check_sla_breaches", "schedule": 30.0},
    # Silent consoles' agents go offline; queues are assigned (service hours starting let left messages in).
    "assign-queues": {"task": "chat.tasks.assign_queues", "schedule": 30.0},
    "count-card-hits": {"task": "knowledge.tasks.count_card_hits", "schedule": CARD_HITS_EVERY_SECONDS},
    # Webhook retries whose task was lost (a worker killed while it waited) are queued again.
    "sweep-webhook-deliveries": {"task": "api.tasks.sweep_webhook_deliveries", "schedule": 60.0},
    # Channel replies (WeCom, bridges) whose task was lost are queued again, in order per conversation.
    "sweep-channel-deliveries": {"task": "chat.tasks.sweep_channel_deliveries", "schedule": 60.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # The open API (api/) sets its own key authentication, permission and per-key throttle on its views.
}
# Webhooks to loopback/private addresses only in local development: a shop must not reach our network.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=DEBUG)
# The wait before a webhook's first retry; it doubles with each further one, up to an hour.
WEBHOOK_RETRY_SECONDS = env.int("WEBHOOK_RETRY_SECONDS", default=30)
# Channel replies (WeCom, bridges): the wait before the first retry, doubling up to 15 minutes, 10 attempts.
CHANNEL_RETRY_SECONDS = env.int("CHANNEL_RETRY_SECONDS", default=10)
# WeCom's API; a test or a proxy may put another in its place.
WECOM_API_BASE = env.str("WECOM_API_BASE", default="https://qyapi.weixin.qq.com")
# Requests per API key (DRF rate: "<n>/<sec|min|hour|day>"), counted in the shared cache.
SHOPBEE_API_KEY_RATE = env.str("API_KEY_RATE", default="600/min")
# FAQ card imports (import_cards and the admin): larger files are refused, to be split; the rows are written
# in transactions of this many, so a large import never holds SQLite's write lock for long.
KNOWLEDGE_IMPORT_MAX_ROWS = env.int("KNOWLEDGE_IMPORT_MAX_ROWS", default=20_000)
KNOWLEDGE_IMPORT_MAX_BYTES = env.int("KNOWLEDGE_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
KNOWLEDGE_IMPORT_BATCH_SIZE = env.int("KNOWLEDGE_IMPORT_BATCH_SIZE", default=500)
# Large-model help (docs/llm.md): whether a provider may sit on a private address (a self-hosted vLLM or
# Ollama next to Shopbee), and the longest a streamed answer may take whatever the shop's timeout. Shops'
# provider keys are encrypted like the channels' secrets (FIELD_ENCRYPTION_KEY, core.crypto).
LLM_ALLOW_PRIVATE_ENDPOINTS = env.bool("LLM_ALLOW_PRIVATE_ENDPOINTS", default=DEBUG)
LLM_MAX_ANSWER_SECONDS = env.float("LLM_MAX_ANSWER_SECONDS", default=15.0)
# Bot conversations a basic-plan shop gets per calendar month (shop's timezone); unlimited has no cap.
SHOPBEE_BASIC_MONTHLY_BOT_CONVERSATIONS = env.int("BASIC_MONTHLY_BOT_CONVERSATIONS", default=2000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Shopbee Open API",
    "DESCRIPTION": "REST API for ISVs: products, customers, orders, knowledge, conversations and more.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        f"{name}Enum": f"api.schema.{name}"
        for name in (
            "OrderStatus",
            "ConversationStatus",
            "WorkOrderStatus",
            "InvoiceRequestStatus",
            "QAFindingStatus",
            "QARuleKind",
            "WorkOrderKind",
        )
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients): opt in, or every
# request looks like plain HTTP and SECURE_SSL_REDIRECT loops.
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every page's scripts are static files (no inline script, no eval); inline styles stay allowed for the
# admin's style attributes. WebSockets go to the same host ('self' covers ws: and wss: there).
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Django's own console handler (DEBUG) printed every django.* line a second time through the root's.
    "loggers": {"django": {"handlers": [], "level": env.str("LOG_LEVEL", default="WARNING"), "propagate": True}},
}

# Analytics: what one agent-day costs the merchant (¥), for the dashboard's "cost saved by the bot".
ANALYTICS_COST_PER_AGENT_DAY = env.str("ANALYTICS_COST_PER_AGENT_DAY", default="300")

# How often a worker process re-reads a shop's stamps (knowledge, catalogue, QA rules) to see changes
# made by other processes; changes made in the process itself are seen at once (see core.caching).
SHOP_CACHE_RECHECK_SECONDS = env.float("SHOP_CACHE_RECHECK_SECONDS", default=1.0)
# Rate limits on everything a stranger can send (core.limits; table in docs/security.md), counted in the
# cache: Redis with REDIS_URL, so all processes together. "count/period", period s, min, h or day ("10/15min").
# LIMITS="chat.message.shop=1000/s,chat.connect.ip=5000/min" overrides some (a load test from one machine).
SHOPBEE_LIMITS = {
    # Shopper socket frames, per socket, per visitor token (all its tabs), per client IP and per shop; the
    # shop's ceiling keeps a flood on one shop from taking the server from every other shop.
    "chat.message.socket": "5/s",
    "chat.message.visitor": "5/s",
    "chat.message.ip": "30/s",
    "chat.message.shop": "50/s",
    "chat.rate.socket": "3/min",
    "chat.rate.visitor": "3/min",
    "chat.rate.ip": "60/min",
    "chat.rate.shop": "600/min",
    "chat.typing.socket": "2/s",
    "chat.typing.visitor": "2/s",
    "chat.typing.ip": "30/s",
    "chat.typing.shop": "100/s",
    # product_details frames (a product card opened): each one is a bot reply, stored.
    "chat.details.socket": "3/s",
    "chat.details.visitor": "3/s",
    "chat.details.ip": "30/s",
    "chat.details.shop": "50/s",
    # New shopper sockets per client IP (the page reconnects after 0.5 s, doubling to 10 s).
    "chat.connect.ip": "120/min",
    # Failures only: invalid API keys per client IP; wrong admin passwords per IP and per username.
    "api.invalid_key.ip": "20/10min",
    "admin.login.ip": "10/15min",
    "admin.login.username": "20/15min",
}
_unknown_limits = set(env.dict("LIMITS", default={})) - set(SHOPBEE_LIMITS)
if _unknown_limits:
    raise ImproperlyConfigured(f"LIMITS names unknown limits: {', '.join(sorted(_unknown_limits))}")
SHOPBEE_LIMITS.update(env.dict("LIMITS", default={}))
# The load test's floor (loadtest_chat --floor): a bare echo socket at /ws/bench/echo/, for benchmarking
# only; it answers anyone without limits, so it stays off (the default) in production.
BENCH_ECHO = env.bool("BENCH_ECHO", default=False)
# The largest frame either socket parses, in characters: a 2,000-character message fits even with every
# character escaped (\uXXXX); a larger frame gets "frame_too_large" before any parsing.
CHAT_MAX_FRAME_SIZE = env.int("CHAT_MAX_FRAME_SIZE", default=16384)
# A conversation the bot holds is closed (and counted) once the shopper has been silent this long.
CHAT_IDLE_CLOSE_MINUTES = env.int("CHAT_IDLE_CLOSE_MINUTES", default=30)
# A shopper socket that has sent no frame for this long is closed (code 4408): a tab left open in the
# background or a client that only holds sockets. The page reconnects, with what it missed, as soon as it is
# in front of the shopper again.
CHAT_IDLE_SOCKET_SECONDS = env.float("CHAT_IDLE_SOCKET_SECONDS", default=900.0)
# An agent whose last console closed goes offline this long after (chats back to the queue's head), unless a
# console of theirs is back by then: a reload or a dropped connection keeps them online.
CHAT_PRESENCE_GRACE_SECONDS = env.int("CHAT_PRESENCE_GRACE_SECONDS", default=30)

# --- the email channel (chat.channels.email, docs/channels.md#email) ---------------------------------------
# Attachments received by mail: stored under MEDIA_ROOT, served to staff only through the agent console.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
EMAIL_CHANNEL_POLL_SECONDS = env.float("EMAIL_CHANNEL_POLL_SECONDS", default=60.0)
EMAIL_CHANNEL_TIMEOUT_SECONDS = env.float("EMAIL_CHANNEL_TIMEOUT_SECONDS", default=30.0)
# A private CA for merchants' self-hosted mail servers (PEM file); the system's CAs are always trusted.
EMAIL_CHANNEL_CA_FILE = env.str("EMAIL_CHANNEL_CA_FILE", default="")
# Limits on what a stranger's mail can make Shopbee store: a larger mail is recorded and not downloaded.
EMAIL_CHANNEL_MAX_MAIL_BYTES = env.int("EMAIL_CHANNEL_MAX_MAIL_BYTES", default=25 * 1024 * 1024)
EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES = env.int("EMAIL_CHANNEL_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
EMAIL_CHANNEL_MAX_ATTACHMENTS = env.int("EMAIL_CHANNEL_MAX_ATTACHMENTS", default=10)
# Mails read per mailbox per poll; the rest wait for the next poll, so one flooded mailbox never starves others.
EMAIL_CHANNEL_FETCH_LIMIT = env.int("EMAIL_CHANNEL_FETCH_LIMIT", default=50)
CELERY_BEAT_SCHEDULE["poll-mailboxes"] = {"task": "chat.tasks.poll_mailboxes", "schedule": EMAIL_CHANNEL_POLL_SECONDS}
