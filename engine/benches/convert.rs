//! Conversion throughput on the sample documents of `make run` (engine::sample): how many
//! documents per second one core turns from BSON into validated Data API JSON. The goal is
//! at least 200,000 docs/s, so conversion never limits a migration (Astra takes 4k–12k ops/s).
//!
//! The copy reads raw BSON: `from_raw_bson` compares converting it straight from the bytes
//! (`Converter::convert_raw`, falling back to a `Document` where it must) with building each
//! `Document` first.
//!
//! Run with `cargo bench -p engine --bench convert`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use engine::convert::{content_hash, Converter};
use engine::policy::{ConversionPolicy, Indexing};
use engine::sample::{documents, sample_collections};

/// The allocator docshift's binary has.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn conversion(c: &mut Criterion) {
    let converter = Converter::new(ConversionPolicy::default(), &Indexing::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let all: Vec<(String, Vec<bson::Document>)> = sample_collections()
        .iter()
        .map(|spec| (spec.name.to_owned(), documents(spec).collect()))
        .collect();
    let every: Vec<&bson::Document> = all.iter().flat_map(|(_, docs)| docs.iter()).collect();
    let bytes: usize = every
        .iter()
        .filter_map(|d| converter.convert(d).ok())
        .map(|c| c.len())
        .sum();
    eprintln!(
        "sample: {} documents, {} bytes of JSON, {} bytes on average",
        every.len(),
        bytes,
        bytes / every.len().max(1)
    );

    let mut group = c.benchmark_group("convert");
    group.sample_size(20);
    group.throughput(Throughput::Elements(every.len() as u64));
    group.bench_function("sample_dataset", |b| {
        b.iter(|| {
            for doc in &every {
                let _ = black_box(converter.convert(black_box(doc)));
            }
        })
    });
    for (name, docs) in &all {
        group.throughput(Throughput::Elements(docs.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| {
                for doc in docs {
                    let _ = black_box(converter.convert(black_box(doc)));
                }
            })
        });
    }
    group.finish();

    // The copy's side: documents arrive as raw BSON. Converting them straight from it,
    // against building each `Document` first (what the copy did before `convert_raw`).
    let raw: Vec<bson::RawDocumentBuf> = every.iter().map(|d| bson::RawDocumentBuf::from_document(d).unwrap_or_else(|e| panic!("{e}"))).collect();
    let mut group = c.benchmark_group("from_raw_bson");
    group.sample_size(20);
    group.throughput(Throughput::Elements(raw.len() as u64));
    group.bench_function("via_document", |b| {
        b.iter(|| {
            for doc in &raw {
                let _ = black_box(doc.to_document().map(|d| converter.convert(&d)));
            }
        })
    });
    group.bench_function("convert_raw", |b| {
        b.iter(|| {
            for doc in &raw {
                let _ = black_box(converter.convert_raw(black_box(doc)).map_or_else(|| doc.to_document().map(|d| converter.convert(&d).ok()), |c| Ok(Some(c))));
            }
        })
    });
    group.finish();

    // Verification's side: hashing converted JSON (as read back from the target).
    let converted: Vec<String> = every
        .iter()
        .filter_map(|d| converter.convert(d).ok())
        .map(|c| c.into_json())
        .collect();
    let mut group = c.benchmark_group("content_hash");
    group.sample_size(10);
    group.throughput(Throughput::Elements(converted.len() as u64));
    group.bench_function("sample_dataset", |b| {
        b.iter_batched(
            || (),
            |()| {
                for json in &converted {
                    let _ = black_box(content_hash(black_box(json)));
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, conversion);
criterion_main!(benches);
