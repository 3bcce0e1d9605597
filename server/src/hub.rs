//! The websocket hub: every connected browser gets every event. For now the events say
//! how many browsers are watching; job progress will flow through the same channel.

use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use engine::wire::ServerEvent;
use futures::{SinkExt, StreamExt};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use tokio::sync::broadcast;

/// Events waiting for a slow browser before it starts missing them (it then resyncs).
const BACKLOG: usize = 256;

pub struct Hub {
    watching: AtomicUsize,
    events: broadcast::Sender<ServerEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { watching: AtomicUsize::new(0), events: broadcast::channel(BACKLOG).0 }
    }
}

impl Hub {
    fn publish(&self, event: ServerEvent) {
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }

    fn presence(&self) -> ServerEvent {
        ServerEvent::Presence { watching: self.watching.load(Ordering::SeqCst) }
    }

    /// Counts a browser in until the returned guard drops.
    fn join(self: &Arc<Self>) -> Watcher {
        self.watching.fetch_add(1, Ordering::SeqCst);
        self.publish(self.presence());
        Watcher(self.clone())
    }
}

struct Watcher(Arc<Hub>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.watching.fetch_sub(1, Ordering::SeqCst);
        self.0.publish(self.0.presence());
    }
}

/// `GET /ws`: upgrades and streams events until the browser goes away.
pub async fn upgrade(ws: WebSocketUpgrade, State(hub): State<Arc<Hub>>) -> Response {
    ws.on_upgrade(move |socket| stream_events(socket, hub))
}

async fn stream_events(socket: WebSocket, hub: Arc<Hub>) {
    let mut events = hub.events.subscribe();
    let _watcher = hub.join();
    let (mut sink, mut incoming) = socket.split();
    loop {
        tokio::select! {
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    // Fell behind: skip to the present state rather than queue without end.
                    Err(broadcast::error::RecvError::Lagged(_)) => hub.presence(),
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                let Ok(text) = serde_json::to_string(&event) else { continue };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
