//! Every connected browser hears how many are watching, and hears it change.

use crate::common::{Docshift, MongoServer};
use engine::wire::ServerEvent;
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads frames until one says `watching == expected`.
async fn until_watching(socket: &mut Socket, expected: usize) {
    let wait = async {
        while let Some(frame) = socket.next().await {
            if let Message::Text(text) = frame.unwrap() {
                let events: Vec<ServerEvent> = serde_json::from_str(&text).unwrap();
                if events.contains(&ServerEvent::Presence { watching: expected }) {
                    return;
                }
            }
        }
        panic!("socket closed before watching = {expected}");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("never saw watching = {expected}"));
}

#[tokio::test]
async fn every_browser_sees_who_comes_and_goes() {
    let mongo = MongoServer::start();
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    let (mut first, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    until_watching(&mut first, 1).await;
    let (mut second, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    until_watching(&mut second, 2).await;
    until_watching(&mut first, 2).await;

    second.close(None).await.unwrap();
    until_watching(&mut first, 1).await;

    // A browser that vanishes without a close frame is counted out too.
    let (third, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    until_watching(&mut first, 2).await;
    drop(third);
    until_watching(&mut first, 1).await;
}
