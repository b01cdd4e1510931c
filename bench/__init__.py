"""Performance benchmark of the central system: ``python -m bench.run`` (``make bench``).

- ``bench.messages``  OCPP 1.6J / 2.0.1 payloads the load generator sends and answers with
- ``bench.loadgen``   the load generator (one process drives many chargers over raw websockets)
- ``bench.yardstick`` a minimal central system written the way the ``ocpp`` library documents it
- ``bench.procs``     starting the servers, CPU pinning, /proc sampling
- ``bench.run``       the scenarios, the targets, the table and the JSON
"""
