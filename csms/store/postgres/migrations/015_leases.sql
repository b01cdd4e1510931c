-- Several nodes (ADR 013): work that one node at a time must do (a webhook subscription's
-- deliveries, load management) is done by the node holding its lease. A lease is renewed by its
-- holder and taken over by another node once it expired; times are the database's own clock,
-- so the nodes' clocks need not agree.
CREATE TABLE leases (
    name       text PRIMARY KEY,
    node_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
