"""Drives astra-local with the official astrapy client, unchanged.

Usage: astrapy_check.py ENDPOINT TOKEN PAGE_SIZE
Creates a collection, inserts 1,000 documents carrying $date, $objectId and $uuid values
(through astrapy's own types), reads them back page by page, checks that a sorted find returns
what Astra returns (one page of at most PAGE_SIZE documents, no more: a sort is done in memory),
counts them, checks that a duplicate _id raises astrapy's insert-many error, and runs
replace_one, find_one_and_replace, update_one, update_many, delete_one and delete_many.
Then a vector collection: create_collection(definition=...) with a dimension and metric,
insert_many with $vector (astrapy sends them as packed binary by default), find sorted by
$vector with include_similarity, find_one with a vector sort, the sort vector, and the vector
sort of the write commands; the top-1 result of querying with a stored vector is that document
at similarity 1 (cosine), and the neighbours are the exact ones.
Prints one line per check; exits non-zero on the first failure.
"""

import datetime
import math
import random
import sys

from astrapy import DataAPIClient
from astrapy.constants import Environment, ReturnDocument, VectorMetric
from astrapy.exceptions import CollectionInsertManyException, DataAPIResponseException
from astrapy.info import CollectionDefinition
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


def reads(collection, docs, page_size):
    seen = collection.find({}).to_list()
    check("find follows the pages to 1000 documents", len(seen) == 1000)
    by_id = {d["_id"]: d for d in seen}
    sample = by_id[123]
    check("$objectId round-trips as ObjectId", isinstance(sample["oid"], ObjectId) and sample["oid"] == docs[123]["oid"])
    check("$uuid round-trips as UUID", isinstance(sample["uid"], UUID) and sample["uid"] == docs[123]["uid"])
    check("$date round-trips", as_millis(sample["when"]) == as_millis(docs[123]["when"]))

    # On Astra a sort is done in memory: one page, no page state, whatever the cursor wants.
    ordered = collection.find({}, sort={"_id": 1}).to_list()
    check(f"a sorted find returns one page ({page_size} documents)", len(ordered) == page_size)
    check("sorted find in _id order", [d["_id"] for d in ordered] == list(range(page_size)))
    descending = collection.find({"group": 0}, sort={"name": -1}, limit=3).to_list()
    check("sorted find with a filter and a limit", [d["name"] for d in descending] == ["doc-998", "doc-996", "doc-994"])
    window = collection.find({}, sort={"_id": -1}, skip=5, limit=3).to_list()
    check("sorted find with skip", [d["_id"] for d in window] == [994, 993, 992])

    check("count_documents is 1000", collection.count_documents({}, upper_bound=1000) == 1000)
    check("estimated_document_count is 1000", collection.estimated_document_count() == 1000)
    check("find_one by _id", collection.find_one({"_id": 999})["name"] == "doc-999")


def writes(collection):
    try:
        collection.insert_many([{"_id": 5, "name": "duplicate"}, {"_id": 1000, "name": "new"}])
        check("duplicate _id raises CollectionInsertManyException", False)
    except CollectionInsertManyException as error:
        codes = [e.error_code for exc in error.exceptions for e in getattr(exc, "error_descriptors", [])]
        check("duplicate _id raises CollectionInsertManyException", "DOCUMENT_ALREADY_EXISTS" in codes)
        check("the other document is still written", error.inserted_ids == [1000])

    replaced = collection.replace_one({"_id": 1000}, {"name": "replaced"})
    check("replace_one replaces", replaced.update_info["n"] == 1 and replaced.update_info["nModified"] == 1)
    check("replace_one keeps the _id", collection.find_one({"_id": 1000}) == {"_id": 1000, "name": "replaced"})
    upserted = collection.replace_one({"_id": 1001}, {"name": "upserted"}, upsert=True)
    check("replace_one upserts", upserted.update_info.get("upserted") == 1001 and not upserted.update_info["updatedExisting"])
    missing = collection.replace_one({"_id": "nope"}, {"name": "x"})
    check("replace_one without a match", missing.update_info["n"] == 0)

    before = collection.find_one_and_replace({"_id": 1001}, {"name": "again"})
    check("find_one_and_replace returns the document before", before == {"_id": 1001, "name": "upserted"})
    after = collection.find_one_and_replace({"_id": 1002}, {"name": "new"}, upsert=True, return_document=ReturnDocument.AFTER)
    check("find_one_and_replace upserts and returns the document after", after == {"_id": 1002, "name": "new"})
    check("find_one_and_replace without a match is None", collection.find_one_and_replace({"_id": "nope"}, {"a": 1}) is None)

    updated = collection.update_one({"_id": 7}, {"$inc": {"hits": 1}, "$set": {"seen": True}})
    check("update_one updates", updated.update_info["nModified"] == 1)
    check("update_one wrote", collection.find_one({"_id": 7})["hits"] == 1)
    upserted = collection.update_one({"_id": 2000}, {"$setOnInsert": {"fresh": True}}, upsert=True)
    check("update_one upserts", upserted.update_info.get("upserted") == 2000)
    check("find_one_and_update returns the document after",
          collection.find_one_and_update({"_id": 7}, {"$inc": {"hits": 1}}, return_document=ReturnDocument.AFTER)["hits"] == 2)

    many = collection.update_many({"group": 0}, {"$set": {"flag": True}})
    check("update_many follows the pages over 500 documents", many.update_info["n"] == 500 and many.update_info["nModified"] == 500)
    check("update_many wrote them all", collection.count_documents({"flag": True}, upper_bound=1000) == 500)

    one = collection.delete_one({"group": 1}, sort={"_id": -1})
    check("delete_one deletes the first in sort order", one.deleted_count == 1 and collection.find_one({"_id": 999}) is None)
    gone = collection.delete_many({"group": 1})
    check("delete_many follows moreData over 499 documents", gone.deleted_count == 499)
    check("delete_many left the others", collection.count_documents({}, upper_bound=1000) == 500 + 4)
    check("find_one_and_delete", collection.find_one_and_delete({"_id": 2000}) == {"_id": 2000, "fresh": True})


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return (1 + dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))) / 2


def vectors(database):
    dimension = 16
    definition = CollectionDefinition.builder().with_vector_dimension(dimension).with_vector_metric(VectorMetric.COSINE).build()
    collection = database.create_collection("astrapy_vectors", definition=definition)
    described = {c.name: c for c in database.list_collections()}["astrapy_vectors"].definition
    check("create_collection with a vector dimension and metric",
          described.vector.dimension == dimension and described.vector.metric == VectorMetric.COSINE)

    rng = random.Random(16)
    docs = [{"_id": i, "tag": i % 3, "$vector": [rng.uniform(-1, 1) for _ in range(dimension)]} for i in range(300)]
    result = collection.insert_many(docs, chunk_size=50, concurrency=2)
    check("insert_many with $vector", len(result.inserted_ids) == 300)

    target = docs[42]["$vector"]
    hits = collection.find({}, sort={"$vector": target}, include_similarity=True, limit=10).to_list()
    check("find sorted by $vector with include_similarity returns the limit", len(hits) == 10 and all("$similarity" in h for h in hits))
    check("top-1 of a stored vector is its document at similarity 1", hits[0]["_id"] == 42 and abs(hits[0]["$similarity"] - 1) < 1e-6)
    exact = sorted(docs, key=lambda d: (-cosine(target, d["$vector"]), d["_id"]))[:10]
    check("the neighbours are the exact ones", [h["_id"] for h in hits] == [d["_id"] for d in exact])
    check("similarities are (1 + cos) / 2",
          all(abs(h["$similarity"] - cosine(target, d["$vector"])) < 1e-5 for h, d in zip(hits, exact)))
    check("$vector is not returned unless projected", all("$vector" not in h for h in hits))

    stored = collection.find_one({"_id": 42}, projection={"$vector": True})["$vector"]
    check("$vector reads back within float32 precision", len(stored) == dimension and all(abs(a - b) < 1e-6 for a, b in zip(stored, target)))

    one = collection.find_one({"tag": 1}, sort={"$vector": target}, include_similarity=True)
    best_tagged = max((d for d in docs if d["tag"] == 1), key=lambda d: cosine(target, d["$vector"]))
    check("find_one with a filter and a vector sort", one["_id"] == best_tagged["_id"] and "$similarity" in one)

    cursor = collection.find({}, sort={"$vector": target}, limit=3, include_sort_vector=True)
    sort_vector = cursor.get_sort_vector()
    check("include_sort_vector gives the sort vector",
          sort_vector is not None and all(abs(a - b) < 1e-6 for a, b in zip(list(sort_vector), target)))
    everything = collection.find({}, sort={"$vector": target}).to_list()
    check("a vector sort without a limit returns every document with a vector", len(everything) == 300)

    updated = collection.find_one_and_update({}, {"$set": {"hit": True}}, sort={"$vector": target}, return_document=ReturnDocument.AFTER)
    check("find_one_and_update takes a vector sort", updated["_id"] == 42 and updated["hit"] is True)
    deleted = collection.delete_one({}, sort={"$vector": target})
    check("delete_one takes a vector sort", deleted.deleted_count == 1 and collection.find_one({"_id": 42}) is None)
    second = collection.find({}, sort={"$vector": target}, limit=1).to_list()
    check("the deleted document left the index", second[0]["_id"] == exact[1]["_id"])

    try:
        collection.insert_one({"_id": "short", "$vector": [0.5, 0.25]})
        check("a vector of another dimension is refused", False)
    except DataAPIResponseException as error:
        codes = [d.error_code for d in error.error_descriptors]
        check("a vector of another dimension is refused", codes == ["INVALID_VECTOR_LENGTH"])

    database.drop_collection("astrapy_vectors")


def main():
    endpoint, token, page_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = DataAPIClient(environment=Environment.OTHER)
    database = client.get_database(endpoint, token=token, keyspace="default_keyspace")

    collection = database.create_collection("astrapy_check")
    check("create_collection", "astrapy_check" in database.list_collection_names())

    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    docs = [
        {
            "_id": i,
            "oid": ObjectId(),
            "uid": uuid4(),
            "when": base + datetime.timedelta(seconds=i),
            "name": f"doc-{i:03d}",
            "group": i % 2,
        }
        for i in range(1000)
    ]
    result = collection.insert_many(docs, chunk_size=50, concurrency=4)
    check("insert_many 1000 documents", len(result.inserted_ids) == 1000)

    reads(collection, docs, page_size)
    writes(collection)

    database.drop_collection("astrapy_check")
    check("drop_collection", "astrapy_check" not in database.list_collection_names())

    vectors(database)
    print("ALL CHECKS PASSED", flush=True)


if __name__ == "__main__":
    main()
