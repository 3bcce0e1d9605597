"""The peer docshift is measured against: the short script a user would write instead.

pymongo reads the collection with one plain cursor, `find({})`; astrapy writes it with
`insert_many(chunk_size=50, concurrency=20)`, the official client's defaults, in slices of
10,000 documents so memory stays bounded. Values astrapy cannot send as they are become
what it can: Decimal128 a decimal number, datetimes timezone-aware. No verification, no
resume, no dead letters: a failure stops the script.

Usage: peer_astrapy.py MONGO_URI DATABASE COLLECTION ENDPOINT TOKEN TARGET_COLLECTION
Prints one line: `peer docs=N seconds=S` (the time from the first read to the last write).
"""

import sys
import time

import pymongo
from astrapy import DataAPIClient
from astrapy.api_options import APIOptions, SerdesOptions
from astrapy.constants import Environment
from bson.decimal128 import Decimal128

SLICE = 10_000


def plain(value):
    """A value astrapy can serialize."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return value


def main():
    mongo_uri, database, collection, endpoint, token, target = sys.argv[1:7]
    # Patient: a server busy reading a large result may not answer heartbeats meanwhile.
    source = pymongo.MongoClient(mongo_uri, tz_aware=True, connectTimeoutMS=600_000)[database][collection]
    options = APIOptions(serdes_options=SerdesOptions(use_decimals_in_collections=True))
    db = DataAPIClient(environment=Environment.OTHER, api_options=options).get_database(endpoint, token=token, keyspace="default_keyspace")
    astra = db.create_collection(target)
    started = time.monotonic()
    written = 0
    batch = []
    for document in source.find({}):
        batch.append(plain(document))
        if len(batch) == SLICE:
            written += len(astra.insert_many(batch, chunk_size=50, concurrency=20).inserted_ids)
            batch = []
    if batch:
        written += len(astra.insert_many(batch, chunk_size=50, concurrency=20).inserted_ids)
    seconds = time.monotonic() - started
    print(f"peer docs={written} seconds={seconds:.3f}", flush=True)
    if written == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
