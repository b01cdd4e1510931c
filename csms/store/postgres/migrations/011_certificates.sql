-- The certificates the CSMS's CA issued to chargers (SignCertificate, csms cert issue), so that
-- they can be listed and revoked. No foreign key to charge_points: a revoked serial stays
-- refused after its charger was deleted (and registered again).
CREATE TABLE issued_certificates (
    serial          text PRIMARY KEY,            -- lower-case hex, no leading zeros
    charge_point_id citext NOT NULL,
    issued_at       timestamptz NOT NULL,
    not_after       timestamptz NOT NULL,
    revoked_at      timestamptz
);
CREATE INDEX issued_certificates_charger ON issued_certificates (charge_point_id, serial COLLATE "C");
