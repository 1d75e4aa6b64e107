"""The local Mango matcher used when the source cannot filter by selector."""

import pytest

from sync.errors import BadRequest
from sync.protocol.selector import matches, validate

DOC = {"_id": "v1", "type": "visit", "ward": 26734, "tags": ["elderly", "merit"],
       "officer": {"id": "o12", "name": "Lan"}, "done": False}


@pytest.mark.parametrize(("selector", "expected"), [
    ({"type": "visit"}, True),
    ({"type": "dossier"}, False),
    ({"ward": {"$gt": 26000, "$lt": 27000}}, True),
    ({"ward": {"$gt": "a"}}, False),  # different JSON types never compare as greater
    ({"officer.id": "o12"}, True),
    ({"officer": {"name": "Lan"}}, True),
    ({"tags": {"$all": ["merit"]}}, True),
    ({"tags": {"$elemMatch": {"$eq": "elderly"}}}, True),
    ({"tags": {"$size": 3}}, False),
    ({"missing": {"$exists": False}}, True),
    ({"missing": {"$ne": 1}}, True),
    ({"$or": [{"type": "x"}, {"done": False}]}, True),
    ({"$and": [{"type": "visit"}, {"done": True}]}, False),
    ({"$nor": [{"type": "x"}]}, True),
    ({"type": {"$not": {"$eq": "visit"}}}, False),
    ({"type": {"$in": ["dossier", "visit"]}}, True),
    ({"type": {"$nin": ["visit"]}}, False),
    ({"officer.name": {"$regex": "^L"}}, True),
    ({"ward": {"$mod": [2, 0]}}, True),
    ({"ward": {"$type": "number"}}, True),
])
def test_matches(selector, expected):
    assert matches(DOC, validate(selector)) is expected


def test_unknown_operator_is_named():
    with pytest.raises(BadRequest, match=r"\$near"):
        validate({"loc": {"$near": [1, 2]}})
    with pytest.raises(BadRequest, match="JSON object"):
        validate(["type"])
