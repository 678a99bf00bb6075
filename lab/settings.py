"""Django settings of the lab's catalog service.

Everything the service keeps lives in one state folder, given by the
environment variable LAB_STATE (``python -m lab serve --state DIR`` sets it):
``catalog.sqlite3`` and ``media/images/``.
"""

import os
from pathlib import Path

STATE = Path(os.environ.get("LAB_STATE", Path.cwd() / "lab-state")).resolve()

SECRET_KEY = "lab-only-not-secret"
# The course's lab runs without DEBUG: a POST to /fruits is answered with a
# redirect, not with Django's debug error page (see the README).
DEBUG = False
ALLOWED_HOSTS = ["*"]
APPEND_SLASH = True

INSTALLED_APPS = ["rest_framework", "lab.catalog"]
MIDDLEWARE = [
    "lab.faults.FaultInjectionMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "lab.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
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
MEDIA_ROOT = STATE / "media"
MEDIA_URL = "/media/"
# Uploads up to 50 MB are kept in memory or a temporary file, as Django does.
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

REST_FRAMEWORK = {
    # No users in the lab: no django.contrib.auth, no sessions.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.server": {
            "handlers": ["stderr"],
            "level": os.environ.get("LAB_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
