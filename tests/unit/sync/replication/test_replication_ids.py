"""Replication ids: stable, sensitive to what defines the replication, versioned."""

from sync.protocol.ids import CURRENT_VERSION, ReplicationSpec, candidate_ids, replication_id


def test_same_spec_same_id_and_direction_matters():
    a = ReplicationSpec("http://h/db|u", "/data/local")
    assert replication_id(a) == replication_id(ReplicationSpec("http://h/db|u", "/data/local"))
    assert replication_id(a) != replication_id(ReplicationSpec("/data/local", "http://h/db|u"))


def test_filters_and_user_change_the_id():
    base = ReplicationSpec("s|u", "t")
    ids = {
        replication_id(base),
        replication_id(ReplicationSpec("s|other", "t")),
        replication_id(ReplicationSpec("s|u", "t", doc_ids=("a", "b"))),
        replication_id(ReplicationSpec("s|u", "t", selector={"type": "visit"})),
    }
    assert len(ids) == 4
    # doc_ids are a set: order does not matter
    assert replication_id(ReplicationSpec("s", "t", doc_ids=("b", "a"))) == replication_id(
        ReplicationSpec("s", "t", doc_ids=("a", "b")))


def test_current_version_is_looked_up_first():
    spec = ReplicationSpec("s", "t")
    versions = candidate_ids(spec)
    assert versions[0] == (CURRENT_VERSION, replication_id(spec))
    assert len(replication_id(spec)) == 32
