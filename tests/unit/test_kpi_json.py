"""The KPI report's body, built directly for speed, is exactly what its documented model
(KpiOut) would serialise."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from csms.api.schemas.base import Envelope
from csms.api.schemas.kpis import KpiOut, kpi_json
from csms.domain.kpis import KpiItem, KpiReport

START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
END = datetime(2026, 1, 8, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "report",
    [
        KpiReport(None, ()),
        KpiReport(0.75, (KpiItem("CP-1", 0.75),)),
        KpiReport(
            0.5,
            (
                KpiItem("CP-1", 1.0, 1, 1),
                KpiItem("CP-1", 0.0, 1, 2),
                KpiItem("cp-é", 1 / 3, 2, 1),
            ),
        ),
    ],
)
def test_equals_the_models_json(report: KpiReport) -> None:
    model = Envelope[KpiOut].model_validate(
        {
            "data": {
                "value": report.value,
                "start": START,
                "end": END,
                "items": [item._asdict() for item in report.items],
            }
        }
    )
    direct = orjson.dumps({"data": kpi_json(report, START, END)})
    assert orjson.loads(direct) == orjson.loads(model.model_dump_json())
    assert list(orjson.loads(direct)["data"]) == list(orjson.loads(model.model_dump_json())["data"])
