"""Changes a MongoDB collection for the online migration spec (online.spec.ts).

usage: python online_writer.py URI seed DB COLLECTION N   -- (re)creates it with N documents
       python online_writer.py URI write DB COLLECTION    -- inserts, updates ($set, $inc,
                                                              $push, $unset), replaces and
                                                              deletes about 20 times a second
                                                              until killed
"""
import random
import sys
import time

import pymongo


def seed(collection, count):
    collection.drop()
    collection.insert_many([{"_id": i, "name": f"order {i}", "n": 0, "tags": ["seed"]} for i in range(count)])


def write(collection):
    rng = random.Random(13)
    ids = [d["_id"] for d in collection.find({}, {"_id": 1})]
    next_id = max(ids, default=0) + 1
    round_ = 0
    while True:
        round_ += 1
        pick = rng.randrange(100)
        if pick < 20 or not ids:
            collection.insert_one({"_id": next_id, "name": f"order {next_id}", "n": 0})
            ids.append(next_id)
            next_id += 1
        elif pick < 65:
            update = [
                {"$set": {"status": f"changed {round_}"}},
                {"$inc": {"n": 1}},
                {"$push": {"tags": round_}},
                {"$unset": {"status": ""}},
            ][round_ % 4]
            collection.update_one({"_id": rng.choice(ids)}, update)
        elif pick < 80:
            collection.replace_one({"_id": rng.choice(ids)}, {"name": "replaced", "round": round_})
        else:
            victim = ids.pop(rng.randrange(len(ids)))
            collection.delete_one({"_id": victim})
        time.sleep(0.05)


if __name__ == "__main__":
    uri, mode, database, name = sys.argv[1:5]
    target = pymongo.MongoClient(uri)[database][name]
    if mode == "seed":
        seed(target, int(sys.argv[5]))
    else:
        write(target)
