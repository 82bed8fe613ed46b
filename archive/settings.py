"""Reelkeeper settings: everything that differs between machines comes from the environment.

Every variable is listed, with its default, in `.env.example` and in the README.
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from archive.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set it in the environment (DEBUG=1 allows a development key)"
        )
    SECRET_KEY = "development-only-key-never-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_rq",
    "archive",
    "workflow",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "archive.urls"
WSGI_APPLICATION = "archive.wsgi.application"

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
                "workflow.context_processors.roles",
            ],
        },
    },
]

# The embedded default is a SQLite file beside the code; PostgreSQL is the real deployment.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'reelkeeper.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The in-process job runner writes from a second thread: take the write lock at BEGIN and
    # wait for it rather than failing with "database is locked" half-way through a transition.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workflow:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "static"


def _root(path: str) -> Path:
    return Path(path).expanduser().resolve()


# Where scans arrive (read-only to us), where we write, and where model weights are placed.
INGEST_ROOTS = [_root(p) for p in env_list(
    "INGEST_ROOTS", str(BASE_DIR / "var" / "ingest"), sep=os.pathsep)]
STORAGE_ROOT = _root(env_str("STORAGE_ROOT", str(BASE_DIR / "var" / "storage")))
MODEL_DIR = _root(env_str("MODEL_DIR", str(BASE_DIR / "var" / "models")))
MEDIA_ROOT = STORAGE_ROOT / "media"
# Scan import: frames per chunk job (several workers share one reel) and reading threads per job.
INGEST_CHUNK_FRAMES = env_int("INGEST_CHUNK_FRAMES", 500)
INGEST_THREADS = env_int("INGEST_THREADS", 2)
# Repair: frames per `gpu` job (each also reads its temporal context), the torch device of the
# workers ("" = CUDA when present, else the CPU), and the longest preview.
REPAIR_CHUNK_FRAMES = env_int("REPAIR_CHUNK_FRAMES", 240)
REPAIR_DEVICE = env_str("REPAIR_DEVICE", "")
REPAIR_PREVIEW_MAX_FRAMES = env_int("REPAIR_PREVIEW_MAX_FRAMES", 48)
# Grading: frames per render job on the `cpu` queue.
GRADE_CHUNK_FRAMES = env_int("GRADE_CHUNK_FRAMES", 500)
# Proxies of an imported scan: a thumbnail of every Nth frame, a contact sheet per block.
PROXY_EVERY = env_int("PROXY_EVERY", 24)
PROXY_SHEET_FRAMES = env_int("PROXY_SHEET_FRAMES", 1440)
MEDIA_URL = "/media/"  # never served directly: photos go through a view that checks the role
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 40 * 1024 * 1024)

# Jobs: with REDIS_URL set they go to django-rq queues served by `rqworker`; unset, the same job
# functions run on a background thread inside the web process (one machine only).
REDIS_URL = env_str("REDIS_URL")
JOBS_BACKEND = "rq" if REDIS_URL else "thread"
JOBS_THREADS = env_int("JOBS_THREADS", 2)
JOB_QUEUES = ("ingest", "gpu", "cpu", "default")
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}
    for name in JOB_QUEUES
}
# A job enqueued inside a transaction is sent to Redis only once the transaction commits, so a
# worker never looks for a row that is not there yet.
RQ = {"COMMIT_MODE": "on_db_commit"}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A 4xx answer (refused, not found) is the asker's business: one line, no traceback.
        # A 5xx keeps its traceback.
        "no_4xx_traceback": {
            "()": lambda: lambda record: (
                getattr(record, "status_code", 500) >= 500
                or setattr(record, "exc_info", None) or setattr(record, "exc_text", None) or True
            ),
        },
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_4xx_traceback"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's default gives "django" a console handler of its own, and its records reach the
    # root's too: every line twice. Here "django" writes through the one console handler.
    # Naming "django" resets its children, so runserver's request lines ("django.server") are
    # set up again as Django's default has them.
    "loggers": {
        "django": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO"),
                   "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
