//! The vectors of each vector collection, for exact nearest-neighbour search.
//!
//! Vectors are stored as little-endian float32 blobs in the `vectors` table, written in the same
//! transaction as their document, and kept in memory per collection once a search needs them
//! (loaded from the table on first use, then updated by every write on the storage thread, which
//! owns this cache). A search scores every vector of the collection (or only those of the given
//! keys) by brute force: 10,000 × 768 is about 8 million multiply-adds.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::vector::{norm2, Metric};

/// A vector as stored in the `vectors` table.
pub fn to_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|f| f.to_le_bytes()).collect()
}

fn from_blob(blob: &[u8]) -> Vec<f32> {
    blob.as_chunks::<4>().0.iter().map(|c| f32::from_le_bytes(*c)).collect()
}

/// One collection's vectors, contiguous.
#[derive(Debug, Default)]
pub struct CollectionVectors {
    dimension: usize,
    keys: Vec<Vec<u8>>,
    data: Vec<f32>,
    norms: Vec<f64>,
    slots: HashMap<Vec<u8>, usize>,
}

impl CollectionVectors {
    fn load(conn: &Connection, collection: i64) -> rusqlite::Result<CollectionVectors> {
        let mut vectors = CollectionVectors::default();
        let mut stmt = conn.prepare_cached("SELECT id_key, vector FROM vectors WHERE collection_id = ?1")?;
        let mut rows = stmt.query([collection])?;
        while let Some(row) = rows.next()? {
            let key: Vec<u8> = row.get(0)?;
            let blob: Vec<u8> = row.get(1)?;
            vectors.put(key, &from_blob(&blob));
        }
        Ok(vectors)
    }

    /// Sets the vector of `key`. A collection's vectors all have its dimension (checked before
    /// writing); one of another length is not kept.
    pub fn put(&mut self, key: Vec<u8>, vector: &[f32]) {
        if self.keys.is_empty() {
            self.dimension = vector.len();
        }
        if vector.len() != self.dimension {
            self.remove(&key);
            return;
        }
        let norm = norm2(vector);
        match self.slots.get(&key) {
            Some(&slot) => {
                self.data[slot * self.dimension..(slot + 1) * self.dimension].copy_from_slice(vector);
                self.norms[slot] = norm;
            }
            None => {
                self.slots.insert(key.clone(), self.keys.len());
                self.keys.push(key);
                self.data.extend_from_slice(vector);
                self.norms.push(norm);
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) {
        let Some(slot) = self.slots.remove(key) else { return };
        let last = self.keys.len() - 1;
        if slot != last {
            let d = self.dimension;
            self.data.copy_within(last * d..(last + 1) * d, slot * d);
            self.keys.swap(slot, last);
            self.norms.swap(slot, last);
            self.slots.insert(self.keys[slot].clone(), slot);
        }
        self.keys.pop();
        self.norms.pop();
        self.data.truncate(last * self.dimension);
    }

    /// The vectors most similar to `query`, best first (ties by key), with their similarity: all
    /// of them, or the `top` best; only those of `keys` when given.
    pub fn search(&self, query: &[f32], metric: Metric, keys: Option<&[Vec<u8>]>, top: Option<usize>) -> Vec<(Vec<u8>, f32)> {
        if query.len() != self.dimension || self.keys.is_empty() {
            return Vec::new();
        }
        let query_norm = norm2(query);
        let d = self.dimension;
        let score = |slot: usize| metric.similarity(query, query_norm, &self.data[slot * d..(slot + 1) * d], self.norms[slot]);
        let mut scored: Vec<(f32, usize)> = match keys {
            Some(keys) => keys.iter().filter_map(|k| self.slots.get(k)).map(|&slot| (score(slot), slot)).collect(),
            None => (0..self.keys.len()).map(|slot| (score(slot), slot)).collect(),
        };
        let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then_with(|| self.keys[a.1].cmp(&self.keys[b.1]));
        if let Some(top) = top.filter(|t| *t < scored.len()) {
            if top == 0 {
                return Vec::new();
            }
            scored.select_nth_unstable_by(top - 1, order);
            scored.truncate(top);
        }
        scored.sort_unstable_by(order);
        scored.into_iter().map(|(score, slot)| (self.keys[slot].clone(), score)).collect()
    }
}

/// The loaded collections' vectors, by collection id.
#[derive(Debug, Default)]
pub struct VectorCache {
    collections: HashMap<i64, CollectionVectors>,
}

impl VectorCache {
    /// The collection's vectors, loaded from the `vectors` table if not yet in memory.
    pub fn collection(&mut self, conn: &Connection, collection: i64) -> rusqlite::Result<&CollectionVectors> {
        Ok(match self.collections.entry(collection) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => entry.insert(CollectionVectors::load(conn, collection)?),
        })
    }

    /// Applies a committed write of `key`'s vector (`None`: the document has none, or is gone).
    pub fn written(&mut self, collection: i64, key: &[u8], vector: Option<&[f32]>) {
        if let Some(vectors) = self.collections.get_mut(&collection) {
            match vector {
                Some(vector) => vectors.put(key.to_vec(), vector),
                None => vectors.remove(key),
            }
        }
    }

    /// Forgets a collection (truncated or deleted).
    pub fn forget(&mut self, collection: i64) {
        self.collections.remove(&collection);
    }
}

/// Writes (or with `None` removes) `key`'s row in the `vectors` table.
pub fn write_row(conn: &Connection, collection: i64, key: &[u8], vector: Option<&[f32]>) -> rusqlite::Result<()> {
    match vector {
        Some(vector) => conn
            .prepare_cached("INSERT OR REPLACE INTO vectors (collection_id, id_key, vector) VALUES (?1, ?2, ?3)")?
            .execute(params![collection, key, to_blob(vector)])
            .map(|_| ()),
        None => conn
            .prepare_cached("DELETE FROM vectors WHERE collection_id = ?1 AND id_key = ?2")?
            .execute(params![collection, key])
            .map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_slots_consistent_and_ranks_exactly() {
        let mut v = CollectionVectors::default();
        v.put(b"a".to_vec(), &[1.0, 0.0]);
        v.put(b"b".to_vec(), &[0.0, 1.0]);
        v.put(b"c".to_vec(), &[0.7, 0.7]);
        v.put(b"d".to_vec(), &[1.0, 0.0]);
        v.remove(b"a");
        v.put(b"b".to_vec(), &[-1.0, 0.0]);
        let ranked = v.search(&[1.0, 0.0], Metric::Cosine, None, None);
        let keys: Vec<&[u8]> = ranked.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [b"d".as_slice(), b"c", b"b"]);
        assert_eq!(ranked[0].1, 1.0);
        assert_eq!(ranked[2].1, 0.0);
        assert_eq!(v.search(&[1.0, 0.0], Metric::Cosine, None, Some(1)).len(), 1);
        let only = v.search(&[1.0, 0.0], Metric::Cosine, Some(&[b"b".to_vec(), b"zz".to_vec()]), None);
        assert_eq!(only.len(), 1);
        v.put(b"e".to_vec(), &[1.0, 0.0, 0.0]);
        assert_eq!(v.search(&[1.0, 0.0], Metric::Cosine, None, None).len(), 3);
    }
}
