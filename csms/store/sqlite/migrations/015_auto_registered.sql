-- Chargers let in by [ocpp] allow_unknown_chargers, until an operator decides about them (sets
-- their bootAnswer): they count against [ocpp] max_unknown_chargers and lose access when the
-- flag is turned off.
ALTER TABLE charge_points ADD COLUMN auto_registered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX charge_points_auto_registered ON charge_points (auto_registered) WHERE auto_registered;
