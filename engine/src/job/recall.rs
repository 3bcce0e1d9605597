//! Proof that vector search still works after the copy: recall@k of a vector collection.
//!
//! A sample of the target's documents gives the query vectors (the float32 numbers Astra
//! holds, equal to the source's vectors rounded to float32). One pass over the source
//! computes each query's exact top k among the source vectors that were copied (documents
//! set aside, or written without a vector, don't count), with the collection's metric; then
//! Astra is asked for its top k of each query (`sort: {"$vector": …}`). recall@k is the
//! share of exact neighbours Astra returned. astra-local computes exact neighbours, so it
//! scores 1 there unless the copy lost or changed a vector; Astra's index is approximate.
//!
//! Memory holds the queries and their top k, never the collection's vectors.

use super::{
    control::{wait_while_paused, Control},
    error::RunError,
    reader::SOURCE_TIMEOUT,
    spec::{CollectionSpec, JobSpec},
};
use crate::{
    astra::Writer,
    policy::VectorMetric,
    source::mongo::MongoSource,
    wire::NeighbourRecall,
};
use bson::Document;
use futures::TryStreamExt;
use std::collections::HashSet;
use tokio::sync::watch;

/// Documents whose vector is a query.
pub const QUERIES: usize = 100;
/// Neighbours compared per query.
pub const K: usize = 10;

/// The recall of `collection` after its copy; `None` when it has no vector mapping or the job
/// was cancelled meanwhile.
pub(crate) async fn neighbour_recall(
    spec: &JobSpec,
    collection: &CollectionSpec,
    source: &MongoSource,
    writer: &Writer,
    set_aside: &HashSet<String>,
    control: &watch::Receiver<Control>,
) -> Result<Option<NeighbourRecall>, RunError> {
    let Some(mapping) = &collection.vector else { return Ok(None) };
    let queries = writer.sample_vectors(&collection.target, QUERIES).await?;
    let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::default()).collect();
    let converter = collection.converter(spec.policy).map_err(RunError::Spec)?;
    let documents = source.client().database(&spec.database).collection::<Document>(&collection.source);
    let filter = collection.filter_document().map_err(RunError::Spec)?;
    let explain = |e: mongodb::error::Error| RunError::Read(source.uri().explain(&e, SOURCE_TIMEOUT).to_string());
    let mut cursor = documents.find(filter).batch_size(1_000).await.map_err(explain)?;
    let mut control = control.clone();
    let mut seen = 0u64;
    while let Some(document) = cursor.try_next().await.map_err(explain)? {
        seen += 1;
        if seen.is_multiple_of(1_000) && wait_while_paused(&mut control).await == Control::Cancel {
            return Ok(None);
        }
        let Ok(converted) = converter.convert(&document) else { continue };
        if set_aside.contains(converted.id_key()) {
            continue;
        }
        let Some(Ok(vector)) = converter.source_vector(&document) else { continue };
        for ((_, query), top) in queries.iter().zip(tops.iter_mut()) {
            top.offer(score(mapping.metric, query, &vector), converted.id_key());
        }
    }

    let mut recall = NeighbourRecall { queries: queries.len() as u64, k: K as u64, found: 0, expected: 0 };
    for ((_, query), top) in queries.iter().zip(tops) {
        let exact: HashSet<String> = top.into_keys().into_iter().collect();
        let astra: HashSet<String> = writer.nearest(&collection.target, query, K).await?.into_iter().collect();
        recall.expected += exact.len() as u64;
        recall.found += exact.intersection(&astra).count() as u64;
    }
    tracing::info!(collection = %collection.source, recall = recall.recall(), queries = recall.queries, "recall@{K} of the vector collection");
    Ok(Some(recall))
}

/// How alike two vectors are under `metric`, larger for nearer: an order-preserving form of
/// the Data API's similarity ((1 + cosine)/2, (1 + dot)/2, 1/(1 + d²)).
fn score(metric: VectorMetric, a: &[f32], b: &[f32]) -> f64 {
    let pairs = a.iter().zip(b).map(|(x, y)| (f64::from(*x), f64::from(*y)));
    match metric {
        VectorMetric::DotProduct => pairs.map(|(x, y)| x * y).sum(),
        VectorMetric::Euclidean => -pairs.map(|(x, y)| (x - y) * (x - y)).sum::<f64>(),
        VectorMetric::Cosine => {
            let (dot, aa, bb) = pairs.fold((0.0, 0.0, 0.0), |(d, a2, b2), (x, y)| (d + x * y, a2 + x * x, b2 + y * y));
            let norms = (aa * bb).sqrt();
            if norms == 0.0 {
                0.0
            } else {
                dot / norms
            }
        }
    }
}

/// The best [`K`] candidates seen so far.
#[derive(Default)]
struct TopK {
    best: Vec<(f64, String)>,
}

impl TopK {
    fn offer(&mut self, score: f64, key: &str) {
        if self.best.len() == K && self.best.last().is_some_and(|(worst, _)| score <= *worst) {
            return;
        }
        let at = self.best.partition_point(|(s, _)| *s >= score);
        self.best.insert(at, (score, key.to_owned()));
        self.best.truncate(K);
    }

    fn into_keys(self) -> Vec<String> {
        self.best.into_iter().map(|(_, key)| key).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_k_keeps_the_nearest_in_order() {
        let mut top = TopK::default();
        for i in 0..30 {
            top.offer(f64::from(i % 17), &format!("d{i}"));
        }
        let keys = top.into_keys();
        assert_eq!(keys.len(), K);
        assert_eq!(&keys[..2], ["d16", "d15"]);
    }

    #[test]
    fn scores_order_neighbours_as_the_metrics_do() {
        let q = [1.0f32, 0.0];
        let near = [0.9f32, 0.1];
        let far = [-1.0f32, 0.0];
        for metric in [VectorMetric::Cosine, VectorMetric::DotProduct, VectorMetric::Euclidean] {
            assert!(score(metric, &q, &near) > score(metric, &q, &far), "{metric:?}");
        }
        assert!((score(VectorMetric::Cosine, &q, &[2.0, 0.0]) - 1.0).abs() < 1e-12);
    }
}
