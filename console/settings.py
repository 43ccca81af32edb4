"""RAM Console settings: one module, configured only from the environment.

Nothing needs to be set to run the embedded default (SQLite in ``var/``) except ``SECRET_KEY``,
which ``manage.py demo`` creates and keeps in ``var/secret_key`` when it is missing. With
``DEBUG`` off, a missing secret raises ``ImproperlyConfigured`` naming the variable to set.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Set the SECRET_KEY environment variable (a long random string), "
        "or start the embedded demo with `manage.py demo`, which creates one in var/secret_key."
    )

# Secrets from which the token and stored-secret keys are derived. The first one encrypts and
# signs; every one listed still decrypts, so a key can be rotated by putting the new one first.
TOKEN_KEYS = env.list("TOKEN_KEYS", default=[SECRET_KEY])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "iam",
    "sts",
    "console",
]

MIDDLEWARE = [
    "console.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.middleware.ConsoleLanguage",
    "console.middleware.SignedInRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.IdentityMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ram-console.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# How long a write waits for a lock another connection holds before it gives up, answering a
# retryable "busy" error (console: a message asking to retry; API: ServiceUnavailable, 503).
DB_LOCK_TIMEOUT = env.float("DB_LOCK_TIMEOUT", default=20.0)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameter binding lets psycopg prepare the statements a process runs again and
    # again (the API's hot path), so PostgreSQL plans each once per connection instead of on every
    # request. Turn it off (DB_PREPARED_STATEMENTS=off) behind a transaction-pooling PgBouncer.
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 2)
    if DB_LOCK_TIMEOUT:
        # Sent as a startup parameter; set DB_LOCK_TIMEOUT=0 behind a PgBouncer that refuses it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options.setdefault("options", f"-c lock_timeout={round(DB_LOCK_TIMEOUT * 1000)}")
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default serves several gunicorn workers and threads from one file. WAL lets
    # readers go on beside the one writer; IMMEDIATE makes every transaction take the write lock
    # when it begins, waiting up to the busy timeout. (A deferred transaction that read first and
    # then writes cannot wait: SQLite answers "database is locked" at once if another connection
    # wrote in between.)
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options.setdefault("timeout", DB_LOCK_TIMEOUT)
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://ram-console")}
# Spent signature nonces and the accounts' versions read with them: in the database, or in Redis
# when one is configured (sts.nonces). API requests reuse rows read under the same versions on
# earlier requests for at most SHARED_CACHE_MAX_AGE seconds (sts.row_cache).
NONCE_STORE_URL = env.str(
    "NONCE_STORE_URL",
    default=(
        env.str("CACHE_URL", default="")
        if env.str("CACHE_URL", default="").startswith(("redis://", "rediss://"))
        else ""
    ),
)

SHARED_CACHE_MAX_AGE = env.float("SHARED_CACHE_MAX_AGE", default=30.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "iam.User"
AUTHENTICATION_BACKENDS = ["iam.auth.LogonNameBackend"]
LOGIN_URL = "console:logon"
LOGIN_REDIRECT_URL = "console:overview"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
]

SESSION_COOKIE_AGE = env.int("LOGIN_SESSION_SECONDS", default=6 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS. The defaults serve the demo over plain HTTP on 127.0.0.1; a deployment behind HTTPS sets
# the variables the README lists under "Production", with which `check --deploy` is silent. The
# redirect spares the health check, which a load balancer sends over plain HTTP.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles and everything else from our own origin
# only, no inline script or style (the templates carry none; colours chosen by users are applied
# by static/console/console.js), nothing may frame the console. img-src allows data: for the MFA
# QR codes. form-action: our own forms only; identity providers post to the SAML ACS from their
# pages, under their own policy.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# The console speaks English and Simplified Chinese: the browser's Accept-Language until the user
# picks one in the header (console.views.language). The API answers in English whatever the
# request asks, as Alibaba's does. Catalogs are compiled into the repository (no gettext needed at
# run time); FORMAT_MODULE_PATH holds each language's date formats.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "console" / "translations"]
FORMAT_MODULE_PATH = ["console.formats"]
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are served straight from static/ through the finders; set STATIC_ROOT to collect.
STATIC_ROOT = env.str("STATIC_ROOT", default=None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# How many proxies stand in front (each appending to X-Forwarded-For): the client's address is
# the entry that many from the right. 0: the header is ignored, REMOTE_ADDR is the client.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# Accept the tea SDK's `Host: 127.0.0.1:8000` and proxies that keep the original host.
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("TRUST_X_FORWARDED_PROTO", default=False)
    else None
)

# Federation: the console's public address (what identity providers send browsers back to), from
# which our SAML service provider's entity id and assertion consumer URL derive unless set.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SAML_SP_ENTITY_ID = env.str("SAML_SP_ENTITY_ID", default="")
# The ID token claim that names the role for OIDC console sign-in (a role ARN or name); without
# it, the user picks among the roles that trust the provider.
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="ram_role")
# Clock skew allowed on SAML and OIDC validity times.
FEDERATION_CLOCK_SKEW = env.int("FEDERATION_CLOCK_SKEW", default=120)

# Policy decisions cached per process (bounded LRU); invalidated by revision counters in the DB.
POLICY_CACHE_SIZE = env.int("POLICY_CACHE_SIZE", default=4096)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
