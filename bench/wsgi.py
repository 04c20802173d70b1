"""The bench's server: the site's WSGI application on the bench's URLconf (bench/urls.py)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()
settings.ROOT_URLCONF = "bench.urls"
