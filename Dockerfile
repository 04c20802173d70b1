# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
RUN DEBUG=0 SECRET_KEY=build-only-key-build-only-key-build-only-key-0123456789 \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 clinic && mkdir -p /app/var && chown -R clinic /app/var
USER clinic

EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
