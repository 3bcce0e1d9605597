//! The browser entry point: hydrates the server-rendered page.

// The job page's view type is deep; the release (LTO) build of the hydrate code needs more
// than the default 128 levels to compute its layout.
#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
