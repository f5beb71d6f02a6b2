"""Simulated feeds: one province's cameras, public services, payments and network.

Each simulator is a `Connector` driven by event-time ticks, reproducible from its seed, with
volumes scaled by `rate` and incidents injected from a `Scenario`
(`ioc.connectors.scenarios`). Example scenario files are in `scenarios/` next to this file.
"""

from .camera import CameraSimulator
from .dvc import DvcSimulator
from .network import NetworkSimulator
from .payment import PaymentSimulator

__all__ = ["CameraSimulator", "DvcSimulator", "NetworkSimulator", "PaymentSimulator"]
