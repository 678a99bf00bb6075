"""Django settings of the lab's catalog service, as on the course's lab machine.

Everything the service keeps lives in one state folder, given by the
environment variable LAB_STATE (``python -m lab serve --state DIR`` sets it):
``catalog.sqlite3`` and ``media/images/``.

Switches of ``python -m lab serve`` (read here from the environment):
LAB_LANG_C=1 stores uploads as Apache with LANG=C does (a non-ASCII file
name is a 500); LAB_NO_MEDIA_INDEX=1 answers /media/images/ 403 Forbidden
(Apache's ``Options -Indexes``).
"""

import os
from pathlib import Path

STATE = Path(os.environ.get("LAB_STATE", Path.cwd() / "lab-state")).resolve()
LANG_C = os.environ.get("LAB_LANG_C", "") not in ("", "0")
NO_MEDIA_INDEX = os.environ.get("LAB_NO_MEDIA_INDEX", "") not in ("", "0")

SECRET_KEY = "lab-only-not-secret"
# The course's server runs with DEBUG on: a POST to /fruits (no slash) is a 500
# RuntimeError page, errors are Django's debug pages (see the README).
DEBUG = True
ALLOWED_HOSTS = ["*"]
APPEND_SLASH = True

INSTALLED_APPS = [
    # For the browsable API's templates and its CSS/JS under /static/.
    "django.contrib.staticfiles",
    "rest_framework",
    "lab.catalog",
    "lab.feedback",
]
MIDDLEWARE = [
    "lab.faults.FaultInjectionMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "lab.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STATE / "catalog.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"  # as `django-admin startproject` writes it; Apache lists times in it too
MEDIA_ROOT = STATE / "media"
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STORAGES = {
    "default": {
        "BACKEND": "lab.catalog.storage.LangCStorage"
        if LANG_C
        else "django.core.files.storage.FileSystemStorage"
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads up to 50 MB are kept in memory or a temporary file, as Django does.
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

REST_FRAMEWORK = {
    # No users in the lab: no django.contrib.auth, no sessions.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # DRF's defaults, as on the course's server: JSON, and the browsable API for browsers.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}

# --quiet sets LAB_LOG_LEVEL=ERROR: no line per request, no "Bad Request" warnings.
LOG_LEVEL = os.environ.get("LAB_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        name: {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False}
        for name in ("django", "django.server", "django.request")
    },
}
