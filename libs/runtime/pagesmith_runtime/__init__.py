"""What every Pagesmith service needs to run: broker, consumer runner, ops HTTP, telemetry."""

from .broker import BrokerRefused, EventPublisher, Publish, connect, refusals_are_final
from .consumer import Dispatcher, Handler
from .errors import PermanentError, TransientError
from .metrics import RuntimeMetrics
from .ops import add_ops_routes, create_ops_app
from .service import (
    REFUSED_EXIT_DELAY_SECONDS,
    ConsumerService,
    Readiness,
    Runtime,
    run_service,
)
from .settings import ServiceSettings, load_settings
from .telemetry import Telemetry, server_tracing_middleware, setup_logging, setup_telemetry
from .topology import (
    DELIVERY_LIMIT,
    GENERATOR,
    NOTIFIER,
    OUTCOMES,
    PUBLISHER,
    TRACKER,
    QueueSpec,
    Topology,
    declare_topology,
)

__all__ = [
    "DELIVERY_LIMIT",
    "GENERATOR",
    "NOTIFIER",
    "OUTCOMES",
    "PUBLISHER",
    "REFUSED_EXIT_DELAY_SECONDS",
    "TRACKER",
    "BrokerRefused",
    "ConsumerService",
    "Dispatcher",
    "EventPublisher",
    "Handler",
    "PermanentError",
    "Publish",
    "QueueSpec",
    "Readiness",
    "Runtime",
    "RuntimeMetrics",
    "ServiceSettings",
    "Telemetry",
    "Topology",
    "TransientError",
    "add_ops_routes",
    "connect",
    "create_ops_app",
    "declare_topology",
    "load_settings",
    "refusals_are_final",
    "run_service",
    "server_tracing_middleware",
    "setup_logging",
    "setup_telemetry",
]
