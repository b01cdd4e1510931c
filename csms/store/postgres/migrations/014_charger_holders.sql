-- Several nodes (ADR 013): which node holds each charger's live connection. A connection claims
-- its charger with a number from the sequence (the newest wins across nodes); its close releases
-- the charger only if that number still holds, so the late close of a connection another node
-- took over never marks the charger offline. Rows of a dead node are released by the others.
CREATE SEQUENCE charger_holder_seq;

CREATE TABLE charger_holders (
    charge_point_id citext PRIMARY KEY REFERENCES charge_points (id) ON DELETE CASCADE,
    node_id         text NOT NULL,
    seq             bigint NOT NULL,
    since           timestamptz NOT NULL
);
CREATE INDEX charger_holders_node ON charger_holders (node_id);
