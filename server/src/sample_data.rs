//! `docshift sample-data`: loads the engine's sample dataset into a MongoDB server, so the
//! demo and the tests have realistic collections to browse and migrate.

use engine::{
    sample::{documents, scaled_collections, SampleCollection},
    source::mongo::{MongoSource, SourceUri},
};
use mongodb::bson::{doc, Document};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct SampleDataArgs {
    /// The MongoDB server to load into.
    #[arg(long, env = "DOCSHIFT_SOURCE_URI", hide_env_values = true)]
    source_uri: String,
    /// How many documents in all, spread over the five collections as in the full set.
    #[arg(long, default_value_t = 50_000)]
    documents: u64,
}

const BATCH: usize = 1_000;

pub async fn run(args: SampleDataArgs) -> Result<(), String> {
    let uri = SourceUri::parse(&args.source_uri).map_err(|e| e.to_string())?;
    let source = MongoSource::connect(&uri, Duration::from_secs(10)).await.map_err(|e| e.to_string())?;
    source.ping().await.map_err(|e| e.to_string())?;
    for spec in scaled_collections(args.documents) {
        load(&source, &spec).await?;
    }
    Ok(())
}

async fn load(source: &MongoSource, spec: &SampleCollection) -> Result<(), String> {
    let collection = source.client().database(spec.database).collection::<Document>(spec.name);
    let present = collection.count_documents(doc! {}).await.map_err(|e| source.uri().explain(&e, Duration::from_secs(10)).to_string())?;
    if present == spec.count {
        println!("{}.{}: {} documents already there", spec.database, spec.name, present);
        return Ok(());
    }
    collection.drop().await.map_err(|e| e.to_string())?;
    let mut batch = Vec::with_capacity(BATCH);
    for document in documents(spec) {
        batch.push(document);
        if batch.len() == BATCH {
            collection.insert_many(std::mem::take(&mut batch)).await.map_err(|e| e.to_string())?;
        }
    }
    if !batch.is_empty() {
        collection.insert_many(batch).await.map_err(|e| e.to_string())?;
    }
    println!("{}.{}: loaded {} documents", spec.database, spec.name, spec.count);
    Ok(())
}
