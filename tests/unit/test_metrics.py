"""Prometheus metrics: label sets stay bounded whatever chargers send."""

from __future__ import annotations

from csms.metrics import Metrics


def _frame_lines(metrics: Metrics) -> list[str]:
    text = metrics.render().decode()
    return sorted(line for line in text.splitlines() if line.startswith("csms_ocpp_frames_total{"))


def test_unknown_action_names_are_counted_under_one_label() -> None:
    metrics = Metrics(lambda: {}, known_actions=frozenset({"Heartbeat", "BootNotification"}))
    metrics.frame("in", "Heartbeat")
    metrics.frame("out", "Heartbeat")
    metrics.frame("in", None)  # an answer to no call, a malformed frame
    before = len(metrics.render())
    for n in range(2000):
        metrics.frame("in", f"Bogus{n}")
        metrics.frame("out", f"Bogus{n}")
    assert _frame_lines(metrics) == [
        'csms_ocpp_frames_total{action="",direction="in"} 1.0',
        'csms_ocpp_frames_total{action="Heartbeat",direction="in"} 1.0',
        'csms_ocpp_frames_total{action="Heartbeat",direction="out"} 1.0',
        'csms_ocpp_frames_total{action="unknown",direction="in"} 2000.0',
        'csms_ocpp_frames_total{action="unknown",direction="out"} 2000.0',
    ]
    assert len(metrics.render()) - before < 400  # two new series, not four thousand


def test_frames_dropped_from_the_message_log_are_counted() -> None:
    metrics = Metrics(lambda: {}, known_actions=frozenset())
    metrics.message_log_dropped(3)
    metrics.message_log_dropped(2)
    assert "csms_message_log_dropped_total 5.0" in metrics.render().decode()
