"""The cast: alice owns Acme, bob is a member, vera a viewer; charlie owns Globex and is an outsider
to Acme. Every cross-tenant test sends charlie (or his tokens) at Acme's things and expects 404."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from mlplatform.accounts.models import Organization, Role, User
from mlplatform.cache import ResilientRedisCache
from tests.factories import add_member, make_org, make_user


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Rate-limit counters (failed logins) live in the Redis cache; each test starts without any.
    # Only this run's keys are deleted (cache.clear() would empty the database for every run).
    client = cast(ResilientRedisCache, cache)._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice@example.com", name="Alice")


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob@example.com", name="Bob")


@pytest.fixture
def vera(db: None) -> User:
    return make_user("vera@example.com", name="Vera")


@pytest.fixture
def charlie(db: None) -> User:
    return make_user("charlie@example.com", name="Charlie")


@pytest.fixture
def acme(alice: User, bob: User, vera: User) -> Organization:
    org = make_org("Acme", alice)
    add_member(org, bob, Role.MEMBER)
    add_member(org, vera, Role.VIEWER)
    return org


@pytest.fixture
def globex(charlie: User) -> Organization:
    return make_org("Globex", charlie)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for() -> Callable[..., APIClient]:
    """An API client signed in as a user (session) or carrying a token's secret."""

    def make(user: User | None = None, *, token: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        if token is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def _drop_the_task_queue() -> Iterator[None]:
    yield
    # Tasks queued by this run (and never consumed by a worker) go with it.
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.CELERY_TASK_DEFAULT_QUEUE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Browser tests last: they are the slowest, and a failure elsewhere should show first.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        help="tests/test_fuzz_api.py: many more generated requests per API operation (minutes)",
    )
