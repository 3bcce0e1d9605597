//! The websocket hub: every connected browser gets every event — presence, job progress,
//! document ids as they land, refusals. Each browser is sent at most ten frames a second:
//! events are coalesced between frames (a job's latest progress replaces the one before),
//! so a slow browser costs a bounded buffer, never a queue that grows without end. A
//! browser that falls too far behind is resynchronised with a fresh snapshot.

use axum::{
    extract::{
        ws::{Message, WebSocket, WebSocketUpgrade},
        State,
    },
    response::Response,
};
use engine::{job::JobManager, wire::ServerEvent};
use futures::{SinkExt, StreamExt};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};
use tokio::sync::broadcast;

/// Presence changes waiting for a slow browser.
const BACKLOG: usize = 256;
/// The shortest time between two frames to one browser.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);
/// Landed ids kept per frame; beyond that the frame says how many were left out.
const LANDED_PER_FRAME: usize = 2_000;

pub struct Hub {
    watching: AtomicUsize,
    presence: broadcast::Sender<ServerEvent>,
    jobs: JobManager,
}

impl Hub {
    pub fn new(jobs: JobManager) -> Self {
        Self { watching: AtomicUsize::new(0), presence: broadcast::channel(BACKLOG).0, jobs }
    }

    /// How many browsers are connected right now.
    pub fn watching(&self) -> usize {
        self.watching.load(Ordering::SeqCst)
    }

    fn presence(&self) -> ServerEvent {
        ServerEvent::Presence { watching: self.watching.load(Ordering::SeqCst) }
    }

    /// Counts a browser in until the returned guard drops.
    fn join(self: &Arc<Self>) -> Watcher {
        self.watching.fetch_add(1, Ordering::SeqCst);
        let _ = self.presence.send(self.presence());
        Watcher(self.clone())
    }

    /// Everything a newcomer needs: presence and every job's progress.
    fn snapshot(&self) -> Frame {
        let mut frame = Frame::default();
        frame.add(self.presence());
        match self.jobs.jobs() {
            Ok(jobs) => jobs.into_iter().rev().for_each(|job| frame.add(ServerEvent::Job(job))),
            Err(err) => tracing::error!(error = %err, "cannot read jobs for a snapshot"),
        }
        frame
    }
}

struct Watcher(Arc<Hub>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.watching.fetch_sub(1, Ordering::SeqCst);
        let _ = self.0.presence.send(self.0.presence());
    }
}

/// Events gathered for the next frame, coalesced.
#[derive(Default)]
struct Frame {
    presence: Option<ServerEvent>,
    jobs: Vec<ServerEvent>,
    landed: HashMap<(String, String), Vec<String>>,
    landed_count: usize,
    refused: Vec<ServerEvent>,
}

impl Frame {
    fn add(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::Presence { .. } => self.presence = Some(event),
            ServerEvent::Job(ref progress) => {
                let id = progress.id.clone();
                self.jobs.retain(|e| !matches!(e, ServerEvent::Job(p) if p.id == id));
                self.jobs.push(event);
            }
            ServerEvent::Landed { job, collection, ids } => {
                let room = LANDED_PER_FRAME.saturating_sub(self.landed_count);
                let ids: Vec<String> = ids.into_iter().take(room).collect();
                self.landed_count += ids.len();
                self.landed.entry((job, collection)).or_default().extend(ids);
            }
            ServerEvent::Refused { .. } => self.refused.push(event),
            ServerEvent::JobDeleted { ref id } => {
                self.jobs.retain(|e| !matches!(e, ServerEvent::Job(p) if &p.id == id));
                self.jobs.push(event);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.presence.is_none() && self.jobs.is_empty() && self.landed.is_empty() && self.refused.is_empty()
    }

    /// The frame as a JSON array of events, emptying it.
    fn take(&mut self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut events: Vec<ServerEvent> = self.presence.take().into_iter().collect();
        events.append(&mut self.jobs);
        events.extend(self.landed.drain().map(|((job, collection), ids)| ServerEvent::Landed { job, collection, ids }));
        events.append(&mut self.refused);
        self.landed_count = 0;
        serde_json::to_string(&events).ok()
    }
}

/// `GET /ws`: upgrades and streams events until the browser goes away.
pub async fn upgrade(ws: WebSocketUpgrade, State(hub): State<Arc<Hub>>) -> Response {
    ws.on_upgrade(move |socket| stream_events(socket, hub))
}

async fn stream_events(socket: WebSocket, hub: Arc<Hub>) {
    let mut presence = hub.presence.subscribe();
    let mut jobs = hub.jobs.subscribe();
    let _watcher = hub.join();
    let mut frame = hub.snapshot();
    let (mut sink, mut incoming) = socket.split();
    let mut ticker = tokio::time::interval(FRAME_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = presence.recv() => match event {
                Ok(event) => frame.add(event),
                Err(broadcast::error::RecvError::Lagged(_)) => frame.add(hub.presence()),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            event = jobs.recv() => match event {
                Ok(event) => frame.add(event),
                // Fell behind the jobs: start again from the present state.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let snapshot = hub.snapshot();
                    frame.jobs = snapshot.jobs;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = ticker.tick() => {
                if let Some(text) = frame.take() {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
            }
            message = incoming.next() => match message {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
