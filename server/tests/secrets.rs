//! A MongoDB password given to docshift never leaves the server: not in a server function's
//! answer, a page, a websocket frame, an error, or a log line.

mod common;

use common::{load_sample, Docshift, MongoServer};
use futures::StreamExt;
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor-3xyz";
const WRONG: &str = "Wr0ngHorse-9qq";

#[tokio::test]
async fn passwords_never_appear_in_responses_frames_or_logs() {
    let mongo = MongoServer::start_with_user(USER, PASSWORD);
    let uri = mongo.uri_with(USER, PASSWORD);
    load_sample(&uri, 300);
    let docshift = Docshift::serve(&uri, &[]);

    let (ws, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    let (_, mut frames) = ws.split();

    let mut seen = Vec::new();
    let mut record = |(status, body): (u16, String)| {
        seen.push(body.clone());
        (status, body)
    };
    let (status, body) = record(docshift.call("list_sources", &[]).await);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("mongodb://{USER}:****@127.0.0.1:{}", mongo.port)), "{body}");
    let (status, body) = record(docshift.call("list_databases", &[("source", "default")]).await);
    assert_eq!(status, 200, "{body}");
    record(docshift.call("list_collections", &[("source", "default"), ("database", "shop")]).await);
    let args = [("source", "default"), ("database", "shop"), ("collection", "orders")];
    record(docshift.call("first_documents", &args).await);
    record(docshift.call("exact_count", &args).await);

    // A second source with the right password, one with a wrong password, one malformed.
    let (status, body) = record(docshift.call("add_source", &[("name", "again"), ("uri", &uri)]).await);
    assert_eq!(status, 200, "{body}");
    let wrong = mongo.uri_with(USER, WRONG);
    let (status, body) = record(docshift.call("add_source", &[("name", "wrong"), ("uri", &wrong)]).await);
    assert_ne!(status, 200);
    assert!(body.contains("refused the credentials"), "{body}");
    let malformed = format!("mongodb://{USER}:{WRONG}@127.0.0.1:99999999");
    let (status, body) = record(docshift.call("add_source", &[("name", "bad"), ("uri", &malformed)]).await);
    assert_ne!(status, 200, "{body}");

    for path in ["/", "/sources", "/sources/default", "/sources/default/shop", "/sources/default/shop/orders", "/sources/again"] {
        let (status, _) = record(docshift.get(path).await);
        assert_eq!(status, 200, "{path}");
    }

    // Collect whatever frames arrived meanwhile.
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_millis(300), frames.next()).await {
        seen.push(frame.to_string());
    }
    seen.push(docshift.output());

    for text in &seen {
        for secret in [PASSWORD, WRONG] {
            assert!(!text.contains(secret), "a password leaked into:\n{text}");
        }
    }
    assert!(docshift.output().contains("****"), "the log names the source, redacted");
}
