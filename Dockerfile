# The one image for web, worker and beat; docker-compose.yml picks the command.

# The chart library, from the npm registry (package-lock.json pins it).
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=mlplatform.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 app

COPY pyproject.toml constraints.txt README.md ./
COPY mlplatform mlplatform
COPY metrics metrics
COPY projects projects
COPY alerts alerts
COPY collector collector
RUN pip install --no-cache-dir -c constraints.txt .

COPY . .
COPY --from=assets /assets/node_modules node_modules
# Static files are collected at build time; production settings need an environment to load, and
# none of these values reach the running containers.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only-build-only \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    SITE_URL=https://build.invalid EMAIL_BACKEND=console \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var && chown -R app /app/var

USER app
EXPOSE 8000
CMD ["uvicorn", "mlplatform.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--ws-max-size", "65536"]
