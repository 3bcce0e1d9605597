//! Shared by the Astra client tests: an in-process astra-local ([`TestAstra`]) with clients
//! for it, and converted sample documents.

use bson::Document;
use engine::convert::{Converted, Converter};
use engine::policy::{ConversionPolicy, Indexing};
use engine::sample::{self, SampleCollection};
use engine::astra::{DataApiClient, DataApiConfig, DocumentApiClient, DocumentApiConfig, RetryPolicy, Token};
use astra_local::testing::TestAstra;
use std::time::Duration;

pub const TOKEN: &str = "AstraCS:target-test:3f9a7c2e1b";
pub const KEYSPACE: &str = "default_keyspace";

/// A running astra-local that accepts [`TOKEN`], and clients for it.
pub struct LocalTarget {
    pub astra: TestAstra,
}

impl LocalTarget {
    pub async fn start() -> Self {
        Self { astra: TestAstra::start(TOKEN).await }
    }

    pub fn data_api_config(&self) -> DataApiConfig {
        let mut config = DataApiConfig::new(self.astra.endpoint(), KEYSPACE, Token::new(TOKEN));
        config.retry = fast_retries(8);
        config
    }

    pub fn data_api(&self) -> DataApiClient {
        DataApiClient::new(self.data_api_config()).unwrap()
    }

    pub fn document_api_config(&self) -> DocumentApiConfig {
        let mut config = DocumentApiConfig::new(self.astra.endpoint(), KEYSPACE, Token::new(TOKEN));
        config.retry = fast_retries(8);
        config
    }

    pub fn document_api(&self) -> DocumentApiClient {
        DocumentApiClient::new(self.document_api_config()).unwrap()
    }
}

/// Short waits, so that tests with faults finish quickly.
pub fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        multiplier: 2.0,
        max_elapsed: Duration::from_secs(120),
    }
}

/// The first `count` documents of a sample collection that convert under the default
/// policy, with the number that the converter rejected.
pub fn converted_sample(name: &'static str, count: u64) -> (Vec<Converted>, usize) {
    let converter = Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap();
    let spec = SampleCollection { database: "test", name, count };
    let mut converted = Vec::new();
    let mut rejected = 0;
    for doc in sample::documents(&spec) {
        match converter.convert(&doc) {
            Ok(c) => converted.push(c),
            Err(_) => rejected += 1,
        }
    }
    (converted, rejected)
}

/// Converts one document under the default policy, with relaxed limits (to build documents
/// that Astra refuses but the converter lets through).
pub fn convert_unchecked(doc: &Document) -> Converted {
    let limits = engine::policy::DocumentLimits { max_depth: 200, ..Default::default() };
    Converter::new(ConversionPolicy::default(), &Indexing::default())
        .unwrap()
        .with_limits(limits)
        .convert(doc)
        .unwrap()
}

/// A document nested `depth` levels deep (the document itself is level 1).
pub fn nested(id: &str, depth: usize) -> Document {
    let mut inner = bson::doc! { "leaf": 1 };
    for _ in 0..depth.saturating_sub(2) {
        inner = bson::doc! { "n": inner };
    }
    bson::doc! { "_id": id, "n": inner }
}

/// A TCP proxy in front of astra-local that loses the first `drops` answers: it lets each
/// request through, waits until the server starts answering (so the request has been
/// processed), then closes the connection instead of forwarding the answer. astra-local's
/// own faults all strike before a request is processed; this is the case they cannot show,
/// a write that landed but whose answer never arrived.
pub struct LosingProxy {
    pub addr: std::net::SocketAddr,
}

impl LosingProxy {
    pub async fn start(upstream: std::net::SocketAddr, drops: usize) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let remaining = Arc::new(AtomicUsize::new(drops));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let remaining = remaining.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let requests = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    });
                    let mut buffer = vec![0u8; 64 * 1024];
                    loop {
                        let n = match server_read.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| r.checked_sub(1)).is_ok() {
                            break;
                        }
                        if client_write.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                    requests.abort();
                });
            }
        });
        Self { addr }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}
