//! The browser's end of the `/ws` socket: one connection per page load, shared through
//! context, that reconnects by itself when the server goes away and comes back.

use engine::wire::{JobProgress, ServerEvent};
use leptos::prelude::*;
use std::collections::VecDeque;

/// Document ids kept in the "just landed" feed.
const FEED: usize = 40;
/// Refusals kept per page load (the full list is in the job's dead letters).
const REFUSALS: usize = 500;

/// A document id that just landed in the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Landed {
    pub job: String,
    pub collection: String,
    pub id: String,
}

/// A document the target or the converter refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub job: String,
    pub collection: String,
    pub id: String,
    pub code: String,
    pub reason: String,
}

/// What the server has pushed to this browser so far.
#[derive(Clone, Copy)]
pub struct LiveState {
    /// How many browsers are connected, once the server has said.
    pub watching: RwSignal<Option<usize>>,
    /// Whether the socket is open right now.
    pub connected: RwSignal<bool>,
    /// Every job the server knows, newest first, as last reported.
    pub jobs: RwSignal<Vec<JobProgress>>,
    /// The latest landed document ids, newest first.
    pub landed: RwSignal<VecDeque<Landed>>,
    /// Refusals seen since the page loaded, newest first.
    pub refused: RwSignal<VecDeque<Refusal>>,
    /// Per job and collection, documents per second, one sample a second, oldest first.
    pub rate_history: RwSignal<std::collections::HashMap<(String, String), VecDeque<f64>>>,
    /// The name this browser acts under, once read from local storage (see [`who`]).
    pub who: RwSignal<String>,
    last_sample_ms: RwSignal<f64>,
}

/// Rate samples kept for the charts (one a second).
const RATE_SAMPLES: usize = 60;

impl LiveState {
    fn new() -> Self {
        Self {
            watching: RwSignal::new(None),
            connected: RwSignal::new(false),
            jobs: RwSignal::new(Vec::new()),
            landed: RwSignal::new(VecDeque::new()),
            refused: RwSignal::new(VecDeque::new()),
            rate_history: RwSignal::new(Default::default()),
            who: RwSignal::new(String::new()),
            last_sample_ms: RwSignal::new(0.0),
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Presence { watching } => self.watching.set(Some(watching)),
            ServerEvent::Job(progress) => {
                let now = now_ms();
                if now - self.last_sample_ms.get_untracked() >= 1_000.0 {
                    self.last_sample_ms.set(now);
                    self.sample_rates();
                }
                self.jobs.update(|jobs| match jobs.iter_mut().find(|j| j.id == progress.id) {
                    Some(job) => *job = progress,
                    None => jobs.insert(0, progress),
                });
            }
            ServerEvent::Landed { job, collection, ids } => self.landed.update(|feed| {
                for id in ids.into_iter().rev().take(FEED) {
                    feed.push_front(Landed { job: job.clone(), collection: collection.clone(), id });
                }
                feed.truncate(FEED);
            }),
            ServerEvent::Refused { job, collection, id, code, reason } => self.refused.update(|list| {
                list.push_front(Refusal { job, collection, id, code, reason });
                list.truncate(REFUSALS);
            }),
            ServerEvent::JobDeleted { id } => {
                self.jobs.update(|jobs| jobs.retain(|j| j.id != id));
                self.landed.update(|feed| feed.retain(|l| l.job != id));
                self.refused.update(|list| list.retain(|r| r.job != id));
            }
        }
    }
}

impl LiveState {
    /// The name this browser acts under from now on: shown, and remembered for next time.
    pub fn set_who(&self, name: String) {
        remember_who(&name);
        self.who.set(name);
    }

    /// Records every running collection's rate, once a second.
    fn sample_rates(&self) {
        let jobs = self.jobs.get_untracked();
        self.rate_history.update(|history| {
            for job in jobs.iter().filter(|j| j.status == engine::wire::JobStatus::Running) {
                for collection in &job.collections {
                    let samples = history.entry((job.id.clone(), collection.source.clone())).or_default();
                    samples.push_back(collection.rate);
                    while samples.len() > RATE_SAMPLES {
                        samples.pop_front();
                    }
                }
            }
        });
    }
}

/// Milliseconds since the page loaded (0 on the server).
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        window().performance().map(|p| p.now()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// The name this browser acts under ("Paused by Ada"), kept in local storage.
pub fn who() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().local_storage().ok().flatten().and_then(|s| s.get_item("docshift-name").ok().flatten()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// Remembers the name this browser acts under.
fn remember_who(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item("docshift-name", name);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

/// Creates the live state and, in the browser, opens the socket.
pub fn provide_live_state() {
    let state = LiveState::new();
    provide_context(state);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        state.who.set(who());
        #[cfg(feature = "hydrate")]
        socket::connect(state);
    });
}

pub fn use_live_state() -> LiveState {
    use_context::<LiveState>().unwrap_or_else(LiveState::new)
}

#[cfg(feature = "hydrate")]
mod socket {
    use super::LiveState;
    use engine::wire::ServerEvent;
    use leptos::prelude::*;
    use std::time::Duration;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{MessageEvent, WebSocket};

    const RECONNECT_AFTER: Duration = Duration::from_secs(1);

    pub fn connect(state: LiveState) {
        let Some(url) = socket_url() else { return };
        let Ok(ws) = WebSocket::new(&url) else {
            set_timeout(move || connect(state), RECONNECT_AFTER);
            return;
        };
        let on_open = Closure::<dyn FnMut()>::new(move || state.connected.set(true));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                match serde_json::from_str::<Vec<ServerEvent>>(&text) {
                    Ok(events) => events.into_iter().for_each(|event| state.apply(event)),
                    Err(err) => leptos::logging::warn!("unreadable event from server: {err}"),
                }
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(move || {
            state.connected.set(false);
            set_timeout(move || connect(state), RECONNECT_AFTER);
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The socket owns its handlers for the page's lifetime.
        on_open.forget();
        on_message.forget();
        on_close.forget();
    }

    fn socket_url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
        Some(format!("{scheme}://{}/ws", location.host().ok()?))
    }
}
