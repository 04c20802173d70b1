# The production image: the web app (gunicorn), the Celery worker and beat, and the one-shot
# migrate, each started through bin/clinic (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The runtime lock only (requirements-dev.lock holds the test tools), every file hash-checked.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

RUN groupadd --system --gid 10001 clinic \
    && useradd --system --uid 10001 --gid clinic --home-dir /app --no-create-home clinic

# .dockerignore keeps .env, .venv, var/, test artifacts and .git out of the image.
COPY . .
# Static files are collected at build time; DEBUG=1 spares the build the production secrets
# the settings would otherwise demand (it changes nothing in what is collected).
# var/media is created here, owned by the app user, so a named volume mounted on it starts
# with that owner: clearance-letter uploads need to write there.
RUN DEBUG=1 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R clinic:clinic /app/var
USER clinic

EXPOSE 8000
CMD ["/app/bin/clinic", "web"]
