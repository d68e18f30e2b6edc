"""Shared fixtures: a fresh RabbitMQ vhost per test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.broker import create_vhost, delete_vhost


@pytest.fixture
def amqp_url() -> Iterator[str]:
    vhost, url = create_vhost()
    try:
        yield url
    finally:
        delete_vhost(vhost)
