//! The browser's end of the `/ws` socket: one connection per page load, shared through
//! context, that reconnects by itself when the server goes away and comes back.

use engine::wire::ServerEvent;
use leptos::prelude::*;

/// What the server has pushed to this browser so far.
#[derive(Clone, Copy)]
pub struct LiveState {
    /// How many browsers are connected, once the server has said.
    pub watching: RwSignal<Option<usize>>,
    /// Whether the socket is open right now.
    pub connected: RwSignal<bool>,
}

impl LiveState {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn apply(&self, event: ServerEvent) {
        match event {
            ServerEvent::Presence { watching } => self.watching.set(Some(watching)),
        }
    }
}

/// Creates the live state and, in the browser, opens the socket.
pub fn provide_live_state() {
    let state = LiveState { watching: RwSignal::new(None), connected: RwSignal::new(false) };
    provide_context(state);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        socket::connect(state);
    });
}

pub fn use_live_state() -> LiveState {
    use_context::<LiveState>().unwrap_or_else(|| LiveState { watching: RwSignal::new(None), connected: RwSignal::new(false) })
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
                match serde_json::from_str::<ServerEvent>(&text) {
                    Ok(event) => state.apply(event),
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
