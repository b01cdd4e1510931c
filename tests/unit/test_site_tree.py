"""The site tree's rules, pure: the socket roll-up, the hierarchy checks, the tree's shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest

from csms.domain.assets import Network, Site
from csms.domain.errors import Invalid
from csms.domain.site_tree import (
    MAX_SITE_DEPTH,
    UNASSIGNED,
    SocketCounts,
    SocketState,
    TreeNode,
    build_site_tree,
    check_sites,
    effective_network,
    is_socket,
    sites_in_network,
    socket_state,
    subtree_site_ids,
)

T = datetime(2026, 1, 1, tzinfo=UTC)


def site(site_id: str, parent: str | None = None, network: str | None = None) -> Site:
    return Site(site_id, site_id.upper(), "site", T, T, network_id=network, parent_site_id=parent)


def summed(per_charger: dict[str, SocketCounts]) -> Callable[[Iterable[str]], SocketCounts]:
    def counts(cp_ids: Iterable[str]) -> SocketCounts:
        return sum((per_charger.get(cp_id, SocketCounts()) for cp_id in cp_ids), SocketCounts())

    return counts


def network(network_id: str, name: str | None = None) -> Network:
    return Network(network_id, name or network_id.upper(), T, T)


@pytest.mark.parametrize(
    ("connected", "status", "expected"),
    [
        (False, "Available", SocketState.OFFLINE),
        (False, "Faulted", SocketState.OFFLINE),  # offline wins over Faulted
        (True, "Faulted", SocketState.ERROR),
        (True, "Available", SocketState.ONLINE),
        (True, "Charging", SocketState.ONLINE),
        (True, "Occupied", SocketState.ONLINE),
        (True, "Unavailable", SocketState.ONLINE),  # only Faulted is an error
        (True, "SuspendedEV", SocketState.ONLINE),
    ],
)
def test_socket_state_rule(connected: bool, status: str, expected: SocketState) -> None:
    assert socket_state(connected, status) is expected


@pytest.mark.parametrize(
    ("evse_id", "connector_id", "expected"),
    [(0, 0, False), (1, 0, False), (0, 1, False), (1, 1, True), (2, 3, True)],
)
def test_the_station_itself_is_not_a_socket(
    evse_id: int, connector_id: int, expected: bool
) -> None:
    assert is_socket(evse_id, connector_id) is expected


def test_counts_roll_up_over_the_whole_subtree() -> None:
    sites = [
        site("region", network="n1"),
        site("city", parent="region"),
        site("depot", parent="city"),
        site("lonely"),  # no network: under the unassigned node
    ]
    chargers = {"depot": ["B", "A"], "city": ["C"], None: ["D"], "lonely": ["E"]}
    per_charger = {
        "A": SocketCounts(online=2),
        "B": SocketCounts(error=1, online=1),
        "C": SocketCounts(offline=2),
        "D": SocketCounts(offline=1),
        "E": SocketCounts(online=1),
    }
    tree = build_site_tree(
        [network("n1"), network("n0", "A first")], sites, chargers, summed(per_charger)
    )
    assert [n.id for n in tree] == ["n0", "n1", UNASSIGNED]  # by name, unassigned last
    empty, n1, unassigned = tree
    assert empty.counts == SocketCounts() and empty.subgroups == []
    region = n1.subgroups[0]
    city = region.subgroups[0]
    depot = city.subgroups[0]
    assert depot.chargers == ["A", "B"] and depot.counts == SocketCounts(online=3, error=1)
    assert city.chargers == ["C"] and city.counts == SocketCounts(online=3, offline=2, error=1)
    assert region.counts == city.counts == n1.counts
    assert unassigned.chargers == ["D"]
    assert [s.id for s in unassigned.subgroups] == ["lonely"]
    assert unassigned.counts == SocketCounts(online=1, offline=1)


def test_one_network_leaves_the_rest_out() -> None:
    tree = build_site_tree(
        [network("n1"), network("n2")],
        [site("s1", network="n1"), site("s2", network="n2")],
        {"s1": ["A"], "s2": ["B"], None: ["C"]},
        summed({"A": SocketCounts(online=1), "B": SocketCounts(online=1)}),
        network_id="n2",
    )
    assert [n.id for n in tree] == ["n2"]
    assert tree[0].subgroups[0].chargers == ["B"] and tree[0].counts == SocketCounts(online=1)


def test_a_charger_on_an_unknown_site_is_unassigned() -> None:
    tree = build_site_tree([], [], {"gone": ["A"]}, summed({"A": SocketCounts(offline=1)}))
    assert tree == [
        TreeNode(UNASSIGNED, "Unassigned", UNASSIGNED, chargers=["A"], counts=SocketCounts(0, 1, 0))
    ]


def test_a_cycle_written_behind_our_back_does_not_loop() -> None:
    looped = [site("a", parent="b"), site("b", parent="a")]
    tree = build_site_tree([], looped, {}, summed({}))
    assert tree[0].subgroups == []  # unreachable from any root, and the read terminates


def test_nested_sites_inherit_their_network() -> None:
    sites = {s.id: s for s in [site("r", network="n"), site("c", parent="r"), site("x")]}
    assert effective_network(sites, "c") == "n"
    assert effective_network(sites, "x") is None
    assert sites_in_network(sites, "n") == {"r", "c"}
    assert subtree_site_ids(sites, "r") == {"r", "c"}
    assert subtree_site_ids(sites, "c") == {"c"}


def _check(sites: list[Site], changed: Site, networks: tuple[str, ...] = ("n1", "n2")) -> None:
    by_id = {s.id: s for s in sites}
    by_id[changed.id] = changed
    check_sites(by_id, networks, changed)


@pytest.mark.parametrize(
    ("existing", "changed", "field", "words"),
    [
        ([], site("a", parent="a"), "parentSiteId", "own parent"),
        ([], site("a", parent="ghost"), "parentSiteId", "does not exist"),
        ([], site("a", network="ghost"), "networkId", "does not exist"),
        (
            [site("b", parent="a"), site("c", parent="b")],
            site("a", parent="c"),
            "parentSiteId",
            "cycle",
        ),
        ([site("p", network="n1")], site("a", parent="p", network="n2"), "networkId", "network"),
        (
            [site("a", network="n1"), site("child", parent="a", network="n1")],
            site("a", network="n2"),
            "parentSiteId",
            "network",
        ),
    ],
)
def test_hierarchy_errors_name_the_field(
    existing: list[Site], changed: Site, field: str, words: str
) -> None:
    with pytest.raises(Invalid) as caught:
        _check(existing, changed)
    assert caught.value.field == field and words in str(caught.value)


def test_valid_hierarchies_pass() -> None:
    _check([site("p", network="n1")], site("a", parent="p", network="n1"))
    _check([site("p", network="n1")], site("a", parent="p"))
    _check([site("p")], site("a", parent="p", network="n2"))  # the parent has no network yet
    _check([site("b", parent="a"), site("a")], site("a", network="n1"))


def test_nesting_depth_is_bounded() -> None:
    chain = [site("s0")] + [site(f"s{i}", parent=f"s{i - 1}") for i in range(1, MAX_SITE_DEPTH)]
    _check(chain[:-1], chain[-1])  # exactly MAX_SITE_DEPTH levels
    with pytest.raises(Invalid, match="levels"):
        _check(chain, site("deeper", parent=chain[-1].id))
