"""Simulated feeds: one province's cameras, public services, payments, network and feedback.

Each simulator is a `Connector` driven by event-time ticks, reproducible from its seed, with
volumes scaled by `rate` and incidents injected from a `Scenario`
(`ioc.connectors.scenarios`). Example scenario files are in `scenarios/` next to this file.
"""

from ioc.connectors.simulated.camera import CameraSimulator
from ioc.connectors.simulated.dvc import DvcSimulator
from ioc.connectors.simulated.feedback import FeedbackSimulator
from ioc.connectors.simulated.network import NetworkSimulator
from ioc.connectors.simulated.payment import PaymentSimulator

__all__ = [
    "CameraSimulator",
    "DvcSimulator",
    "FeedbackSimulator",
    "NetworkSimulator",
    "PaymentSimulator",
]
