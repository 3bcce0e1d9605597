"""Drives astra-local with the official astrapy client, unchanged.

Usage: astrapy_check.py ENDPOINT TOKEN
Creates a collection, inserts 1,000 documents carrying $date, $objectId and $uuid values
(through astrapy's own types), reads them back page by page, counts them, and checks that a
duplicate _id raises astrapy's insert-many error. Prints one line per check; exits non-zero on
the first failure.
"""

import datetime
import sys

from astrapy import DataAPIClient
from astrapy.constants import Environment
from astrapy.exceptions import CollectionInsertManyException
from astrapy.ids import ObjectId, UUID, uuid4


def check(label, condition):
    if not condition:
        print(f"FAIL {label}", flush=True)
        sys.exit(1)
    print(f"ok {label}", flush=True)


def as_millis(value):
    """astrapy may give back a datetime or its own timestamp type."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if hasattr(value, "timestamp_ms"):
        return value.timestamp_ms
    if hasattr(value, "to_datetime"):
        return int(value.to_datetime().timestamp() * 1000)
    raise TypeError(f"unexpected date type {type(value)}")


def main():
    endpoint, token = sys.argv[1], sys.argv[2]
    client = DataAPIClient(environment=Environment.OTHER)
    database = client.get_database(endpoint, token=token, keyspace="default_keyspace")

    collection = database.create_collection("astrapy_check")
    check("create_collection", "astrapy_check" in database.list_collection_names())

    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    docs = []
    for i in range(1000):
        docs.append(
            {
                "_id": i,
                "oid": ObjectId(),
                "uid": uuid4(),
                "when": base + datetime.timedelta(seconds=i),
                "name": f"doc-{i}",
            }
        )
    result = collection.insert_many(docs, chunk_size=50, concurrency=4)
    check("insert_many 1000 documents", len(result.inserted_ids) == 1000)

    cursor = collection.find({}, sort={"_id": 1})
    seen = []
    for document in cursor:
        seen.append(document)
    check("find reads back 1000 documents", len(seen) == 1000)
    check("find in _id order", [d["_id"] for d in seen] == list(range(1000)))
    by_id = {d["_id"]: d for d in seen}
    sample = by_id[123]
    check("$objectId round-trips as ObjectId", isinstance(sample["oid"], ObjectId) and sample["oid"] == docs[123]["oid"])
    check("$uuid round-trips as UUID", isinstance(sample["uid"], UUID) and sample["uid"] == docs[123]["uid"])
    check("$date round-trips", as_millis(sample["when"]) == as_millis(docs[123]["when"]))

    page = collection.find({}).to_list()
    check("pages are followed to the end", len(page) == 1000)

    count = collection.count_documents({}, upper_bound=1000)
    check("count_documents is 1000", count == 1000)
    check("estimated_document_count is 1000", collection.estimated_document_count() == 1000)
    check("find_one by _id", collection.find_one({"_id": 999})["name"] == "doc-999")

    try:
        collection.insert_many([{"_id": 5, "name": "duplicate"}, {"_id": 1000, "name": "new"}])
        check("duplicate _id raises CollectionInsertManyException", False)
    except CollectionInsertManyException as error:
        codes = [e.error_code for exc in error.exceptions for e in getattr(exc, "error_descriptors", [])]
        check("duplicate _id raises CollectionInsertManyException", "DOCUMENT_ALREADY_EXISTS" in codes)
        check("the other document is still written", error.inserted_ids == [1000])

    database.drop_collection("astrapy_check")
    check("drop_collection", "astrapy_check" not in database.list_collection_names())
    print("ALL CHECKS PASSED", flush=True)


if __name__ == "__main__":
    main()
