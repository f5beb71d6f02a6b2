"""Simulated payments: public-service fees, QR, e-wallets, cards, transfers and cash.

Defaults at rate 1 (one province): about 100,000 transactions on a working day (≈ 1.2/s,
3/s in the evening peak), 10% more at weekends, spread over the communes by population.
Arrivals are Poisson with an evening peak (19:00–21:00 local), a lunch bump and quiet nights.

Sectors and their median amounts (log-normal, whole đồng, rounded to 1,000 đồng):
retail 80,000 (52% of transactions), utility 400,000 (9%), transport 50,000 (8%), hospital
300,000 (6%), school 1,500,000 (5%, 1–3 million typical), public_service 100,000 (6%, clipped
to 20,000–500,000: fees of administrative procedures) and other 200,000 (14%). Each sector
has its own channel mix: public-service fees go mostly through the national payment portal
(`national_portal`), shops through QR codes, cash and e-wallets, schools and utilities
through transfers and e-wallets. About 98% succeed; failures carry `insufficient_funds`,
`timeout`, `bank_declined`, `invalid_otp` or `gateway_unavailable`; cash never fails.

`rate` scales the arrival intensity. A `payment_gateway_failure` incident fails its channel's
transactions (in its area, if it names one) at a rate equal to its intensity, with
`gateway_unavailable`. Transactions are keyed by area.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Final

import numpy as np

from ioc.connectors.base import ConnectorContext
from ioc.connectors.simulated._base import (
    BoolArray,
    EventIds,
    FloatArray,
    IntArray,
    SimulatedConnector,
    Tick,
    WeeklyProfile,
    leaf_weights,
    to_ms,
)
from ioc.events import Envelope, PaymentChannel, PaymentSector, PaymentTransaction

__all__ = ["PaymentSimulator"]

_PER_DAY: Final = 100_000
_MAX_VND: Final = 100_000_000_000  # PaymentTransaction's limit

_CHANNELS: Final = tuple(PaymentChannel)
_SECTORS: Final = (
    PaymentSector.RETAIL,
    PaymentSector.UTILITY,
    PaymentSector.TRANSPORT,
    PaymentSector.HOSPITAL,
    PaymentSector.SCHOOL,
    PaymentSector.PUBLIC_SERVICE,
    PaymentSector.OTHER,
)
_SECTOR_SHARE: Final = np.array([0.52, 0.09, 0.08, 0.06, 0.05, 0.06, 0.14])
# Median amount and log-normal spread per sector, in the order of _SECTORS.
_MEDIAN_VND: Final = np.array([80e3, 400e3, 50e3, 300e3, 1.5e6, 100e3, 200e3])
_SIGMA: Final = np.array([1.0, 0.6, 0.8, 0.9, 0.45, 0.8, 1.2])
_PUBLIC_FEE_RANGE: Final = (20_000, 500_000)
# Channel mix per sector; columns in PaymentChannel order:
# national_portal, qr, e_wallet, card, bank_transfer, cash.
_CHANNEL_MIX: Final = np.array(
    [
        [0.0, 0.35, 0.2, 0.15, 0.05, 0.25],
        [0.0, 0.1, 0.4, 0.0, 0.4, 0.1],
        [0.0, 0.3, 0.5, 0.1, 0.0, 0.1],
        [0.0, 0.25, 0.1, 0.2, 0.2, 0.25],
        [0.0, 0.1, 0.2, 0.0, 0.55, 0.15],
        [0.7, 0.0, 0.0, 0.0, 0.15, 0.15],
        [0.0, 0.25, 0.2, 0.1, 0.25, 0.2],
    ]
)
_CUMULATIVE_MIX: Final = np.cumsum(_CHANNEL_MIX, axis=1)
_CASH: Final = _CHANNELS.index(PaymentChannel.CASH)
_FAILURE_RATE: Final = 0.025  # of cashless attempts
_FAILURES: Final = ("insufficient_funds", "timeout", "bank_declined", "invalid_otp")
_FAILURE_MIX: Final = np.cumsum([0.35, 0.25, 0.25, 0.15])
_GATEWAY: Final = "gateway_unavailable"

# Transactions per local hour relative to the weekday mean.
_ARRIVALS = WeeklyProfile(
    weekday=[0.25, 0.12, 0.07, 0.05, 0.08, 0.3, 0.7, 0.95, 1.0, 1.05, 1.15, 1.5,
             1.45, 1.05, 0.95, 1.0, 1.1, 1.3, 1.6, 2.1, 2.25, 1.85, 1.2, 0.6],
    saturday=[0.35, 0.15, 0.08, 0.05, 0.08, 0.25, 0.6, 0.9, 1.1, 1.25, 1.35, 1.6,
              1.55, 1.2, 1.1, 1.15, 1.3, 1.5, 1.8, 2.3, 2.45, 2.05, 1.4, 0.75],
    normalise=True,
)  # fmt: skip


class PaymentSimulator(SimulatedConnector):
    """Simulated payments: DVC fees, QR, e-wallet, card, transfer and cash, evening peaks.

    About 100,000 transactions a day at rate 1 (≈ 1.2 events/s); see the module docstring.
    """

    feed = "payment"
    step: ClassVar[timedelta] = timedelta(seconds=5)

    def __init__(self, context: ConnectorContext) -> None:
        """Prepare the areas, merchants and scenario targets."""
        super().__init__(context)
        self._area_cum = np.cumsum(leaf_weights(self.leaves, "population"))
        # Roughly one merchant that takes cashless payments per 150 people.
        populations = [a.population or 10_000 for a in self.leaves]
        self._merchants = np.array([max(5, p // 150) for p in populations])
        self._failures = [
            (
                to_ms(i.start),
                to_ms(i.end),
                _CHANNELS.index(PaymentChannel(i.channel or PaymentChannel.NATIONAL_PORTAL)),
                i,
            )
            for i in self.incidents("payment_gateway_failure")
        ]
        self._coverage = [self.covered(incident) for *_, incident in self._failures]

    def tick(self, tick: Tick) -> list[Envelope]:
        """The transactions of one tick."""
        per_second = _PER_DAY * self.context.rate * _ARRIVALS.at(tick.local) / 86_400
        rng = tick.rng
        n = int(rng.poisson(per_second * self.step_ms / 1000))
        if n == 0:
            return []
        times = tick.start_ms + np.sort(rng.integers(0, self.step_ms, n))
        area = np.minimum(
            np.searchsorted(self._area_cum, rng.random(n), side="right"), len(self.codes) - 1
        )
        sector = np.minimum(
            np.searchsorted(np.cumsum(_SECTOR_SHARE), rng.random(n), side="right"),
            len(_SECTORS) - 1,
        )
        channel = (rng.random(n)[:, None] >= _CUMULATIVE_MIX[sector]).sum(axis=1)
        channel = np.minimum(channel, len(_CHANNELS) - 1)
        amount = np.exp(np.log(_MEDIAN_VND[sector]) + _SIGMA[sector] * rng.standard_normal(n))
        public = sector == _SECTORS.index(PaymentSector.PUBLIC_SERVICE)
        amount = np.where(public, np.clip(amount, *_PUBLIC_FEE_RANGE), amount)
        amount = np.clip(np.round(amount / 1000) * 1000, 1000, _MAX_VND).astype(np.int64)
        failed = (rng.random(n) < _FAILURE_RATE) & (channel != _CASH)
        reason = np.searchsorted(_FAILURE_MIX, rng.random(n), side="right")
        merchant = (rng.random(n) * self._merchants[area]).astype(np.int64) + 1
        gateway_draw = rng.random(n)
        ids = EventIds(rng, 2 * n)
        gateway_down = self._gateway_down(times, area, channel, gateway_draw)

        out: list[Envelope] = []
        for j, (at, a, s, c, vnd, fail, r, m, gw) in enumerate(
            zip(
                times.tolist(),
                area.tolist(),
                sector.tolist(),
                channel.tolist(),
                amount.tolist(),
                failed.tolist(),
                reason.tolist(),
                merchant.tolist(),
                gateway_down.tolist(),
                strict=True,
            )
        ):
            code = self.codes[a]
            payload = PaymentTransaction(
                transaction_id=f"GD{ids.hex(2 * j + 1)}",
                amount_vnd=vnd,
                channel=_CHANNELS[c],
                sector=_SECTORS[s],
                success=not (fail or gw),
                failure_reason=_GATEWAY if gw else _FAILURES[min(r, 3)] if fail else None,
                merchant_id=None if public[j] else f"MC-{code}-{m:04d}",
            )
            out.append(
                self.envelope(area=code, key=code, at_ms=at, event_id=ids(2 * j), payload=payload)
            )
        return out

    def _gateway_down(
        self,
        times: IntArray,
        area: IntArray,
        channel: IntArray,
        draw: FloatArray,
    ) -> BoolArray:
        """Which transactions a payment_gateway_failure incident fails."""
        down = np.zeros(times.size, dtype=np.bool_)
        for (begin, end, target, incident), covered in zip(
            self._failures, self._coverage, strict=True
        ):
            down |= (
                (times >= begin)
                & (times < end)
                & (channel == target)
                & covered[area]
                & (draw < incident.intensity)
            )
        return down
