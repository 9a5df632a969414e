"""Each channel's newest message, as the channels page and API show it; the same query runs on
SQLite (the embedded default, see tests/test_sqlite_smoke.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.models import Message
from alerts.services import latest_messages
from tests.alerts.alerting import make_channel

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def test_it_answers_the_newest_message_of_each_channel_asked(acme, globex):
    email = make_channel(acme, "Email")
    slack = make_channel(acme, "Slack", kind="slack")
    quiet = make_channel(acme, "Quiet")
    foreign = make_channel(globex, "Globex")
    for hours, key in [(3, "b"), (1, "a"), (5, "c"), (2, "d")]:  # not in time order
        Message.objects.create(
            channel=email, key=key, kind="test", created_at=DAY + timedelta(hours=hours)
        )
    Message.objects.create(channel=slack, key="only", kind="test", created_at=DAY)
    Message.objects.create(channel=foreign, key="x", kind="test", created_at=DAY)

    latest = latest_messages([email, slack, quiet])

    assert {channel: message.key for channel, message in latest.items()} == {
        email.pk: "c",
        slack.pk: "only",
    }
    assert latest_messages([]) == {}
