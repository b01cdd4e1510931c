"""Issued certificates, on both backends: kept, listed (per charger, ignoring case), revoked once
and for good, and a revoked serial found as such even after its charger is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from csms.domain.certificates import IssuedCertificate
from csms.domain.errors import Conflict, NotFound
from csms.domain.paging import Page
from csms.store.repositories import Store
from tests.store.conftest import NOW, add_charge_point


def _issued(serial: str, cp_id: str = "CP-1") -> IssuedCertificate:
    return IssuedCertificate(
        serial=serial, charge_point_id=cp_id, issued_at=NOW, not_after=NOW + timedelta(days=365)
    )


async def test_certificates_are_kept_listed_and_revoked(store: Store) -> None:
    certificates = store.certificates
    for serial, cp_id in (("0b", "CP-1"), ("1a", "cp-1"), ("2c", "CP-2")):
        await certificates.add_certificate(_issued(serial, cp_id))
    with pytest.raises(Conflict):
        await certificates.add_certificate(_issued("0b"))

    assert await certificates.get_certificate("1a") == _issued("1a", "cp-1")
    assert await certificates.get_certificate("ff") is None
    first = await certificates.list_certificates(Page(2))
    assert [c.serial for c in first.items] == ["0b", "1a"] and first.has_more
    rest = await certificates.list_certificates(Page(2, "1a"))
    assert [c.serial for c in rest.items] == ["2c"] and not rest.has_more
    mine = await certificates.list_certificates(Page(10), cp_id="Cp-1")
    assert [c.serial for c in mine.items] == ["0b", "1a"]

    assert not await certificates.is_revoked("0b")
    revoked = await certificates.revoke_certificate("0b", NOW + timedelta(hours=1))
    assert revoked.revoked_at == NOW + timedelta(hours=1)
    again = await certificates.revoke_certificate("0b", NOW + timedelta(hours=2))
    assert again.revoked_at == NOW + timedelta(hours=1)  # the first revocation stands
    assert await certificates.is_revoked("0b")
    assert not await certificates.is_revoked("1a")
    assert not await certificates.is_revoked("abc")  # never issued here
    with pytest.raises(NotFound):
        await certificates.revoke_certificate("abc", NOW)


async def test_a_revoked_serial_outlives_its_charger(store: Store) -> None:
    await add_charge_point(store, "CP-GONE")
    await store.certificates.add_certificate(_issued("7f", "CP-GONE"))
    await store.certificates.revoke_certificate("7f", NOW)
    await store.chargers.delete_charge_point("CP-GONE")
    assert await store.certificates.is_revoked("7f")


async def test_the_revoked_among_many_serials_are_found_in_one_call(store: Store) -> None:
    certificates = store.certificates
    serials = [format(n, "x") for n in range(1, 1202)]  # more than one chunk of parameters
    for serial in serials:
        await certificates.add_certificate(_issued(serial))
    for serial in ("2", "400", "4b1"):  # 2, 1024, 1201
        await certificates.revoke_certificate(serial, NOW)
    asked = [*serials, "ffff"]  # and one never issued here
    assert await certificates.revoked_among(asked) == {"2", "400", "4b1"}
    assert await certificates.revoked_among(["3", "ffff"]) == set()
    assert await certificates.revoked_among([]) == set()
