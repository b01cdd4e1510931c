-- The certificates the CSMS's CA issued to chargers (SignCertificate, csms cert issue), so that
-- they can be listed and revoked. No foreign key to charge_points: a revoked serial stays
-- refused after its charger was deleted (and registered again).
CREATE TABLE issued_certificates (
    serial          TEXT PRIMARY KEY,            -- lower-case hex, no leading zeros
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    issued_at       TEXT NOT NULL,
    not_after       TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX issued_certificates_charger ON issued_certificates (charge_point_id, serial);
