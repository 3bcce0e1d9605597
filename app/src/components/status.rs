//! How a page shows loading, failure, nothing at all, and a moment in time.

use crate::error::AppError;
use leptos::prelude::*;

/// A failure: the server's plain sentence first, the technical details folded beneath.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let details = error.details().map(str::to_owned);
    view! {
        <div class="error" role="alert" data-testid="error">
            <p>{error.to_string()}</p>
            {details.map(|details| view! {
                <details data-testid="error-details">
                    <summary>"Details"</summary>
                    <pre>{details}</pre>
                </details>
            })}
        </div>
    }
}

/// Shown while a resource loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading">"Loading…"</p> }
}

/// A line that says a list or table has nothing in it, and why that is fine.
#[component]
pub fn Empty(#[prop(into)] text: Signal<String>, #[prop(optional)] testid: &'static str) -> impl IntoView {
    view! { <p class="empty" data-testid=testid>{text}</p> }
}

/// A moment, in the user's time zone once the page runs in the browser (in UTC as the
/// server renders it, since the server does not know the user's zone).
#[component]
pub fn LocalTime(at_ms: i64) -> impl IntoView {
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let utc = utc_text(at_ms);
    let shown = utc.clone();
    view! {
        <time datetime=iso(at_ms) title=utc>
            {move || if in_browser.get() { local_text(at_ms) } else { shown.clone() }}
        </time>
    }
}

/// `2025-03-04T14:02:03Z`.
fn iso(at_ms: i64) -> String {
    let (date, time) = civil(at_ms);
    format!("{date}T{time}Z")
}

/// `2025-03-04 14:02:03 UTC`.
fn utc_text(at_ms: i64) -> String {
    let (date, time) = civil(at_ms);
    format!("{date} {time} UTC")
}

/// The date and time of day in UTC: (`2025-03-04`, `14:02:03`).
fn civil(at_ms: i64) -> (String, String) {
    let seconds = at_ms.div_euclid(1_000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", of_day / 3_600, of_day % 3_600 / 60, of_day % 60),
    )
}

/// The moment in the browser's time zone: `2025-03-04 15:02:03` with the zone's offset.
fn local_text(at_ms: i64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
        let offset = -(date.get_timezone_offset() as i64);
        let zone = if offset == 0 {
            "UTC".to_owned()
        } else {
            format!("UTC{}{:02}:{:02}", if offset > 0 { '+' } else { '-' }, offset.abs() / 60, offset.abs() % 60)
        };
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {zone}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        utc_text(at_ms)
    }
}

/// Bytes as a short human figure: 1.2 MB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count with thousands separators: 50,000 (written as the engine writes its bounds).
pub use engine::wire::thousands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_well() {
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
    }

    #[test]
    fn moments_read_in_utc_on_the_server() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(iso(1_709_561_123_000), "2024-03-04T14:05:23Z");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }
}
