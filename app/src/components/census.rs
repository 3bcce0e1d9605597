//! The compatibility census as a table: what Astra would refuse, why, and an example whose
//! `_id` opens the document on its collection's page.

use crate::components::{status::thousands, vectors::VectorCandidates};
use engine::{policy::VectorMapping, wire::Census};
use leptos::prelude::*;

/// Where the census's collection is, for links to its documents.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionPath {
    pub source: String,
    pub database: String,
    pub collection: String,
}

impl CollectionPath {
    /// The collection page showing the document with this `_id` (as the census gives it).
    pub fn document_href(&self, id: &str) -> String {
        format!("/sources/{}/{}/{}?id={}", encode(&self.source), encode(&self.database), encode(&self.collection), encode(id))
    }
}

/// `text` percent-encoded for a path segment or a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[component]
pub fn CensusReport(
    census: Census,
    #[prop(optional)] path: Option<CollectionPath>,
    /// Offers "Map it" beside a proposed vector mapping (the New migration form's dry run).
    #[prop(optional)]
    on_use_vector: Option<Callback<VectorMapping>>,
) -> impl IntoView {
    let refused = census.scanned - census.convertible;
    let partial = (census.scanned < census.total).then(|| format!(" (the first {} of about {})", thousands(census.scanned), thousands(census.total)));
    let path = StoredValue::new(path);
    let vectors = census.clone();
    view! {
        <div class="census" data-testid="census">
            <p>
                <strong data-testid="census-convertible">{thousands(census.convertible)}</strong> " of " {thousands(census.scanned)}
                " documents" {partial} " convert as they are; "
                <strong data-testid="census-refused">{thousands(refused)}</strong> " would be refused or need a policy."
            </p>
            {(!census.reasons.is_empty()).then(|| view! {
                <div class="table-scroll">
                    <table data-testid="census-reasons" class="stack">
                        <thead><tr><th>"Reason"</th><th>"Code"</th><th>"Documents"</th><th>"Example _id"</th><th>"Where"</th></tr></thead>
                        <tbody>
                            {census.reasons.iter().map(|r| {
                                let id = r.example_id.clone();
                                let example = match path.get_value() {
                                    Some(path) => view! { <a href=path.document_href(&id) title="open this document"><code>{id.clone()}</code></a> }.into_any(),
                                    None => view! { <code>{id.clone()}</code> }.into_any(),
                                };
                                view! {
                                    <tr>
                                        <td data-label="Reason">{r.reason.clone()}</td>
                                        <td data-label="Code"><code>{r.code.clone()}</code></td>
                                        <td data-label="Documents" class="num">{thousands(r.documents)}</td>
                                        <td data-label="Example _id" class="wrap">{example}</td>
                                        <td data-label="Where" class="wrap"><code>{r.example_path.clone()}</code></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {(!census.suggested_deny.is_empty()).then(|| view! {
                <p data-testid="suggested-deny" class="wrap">
                    "Suggested " <code>"indexing.deny"</code> ": " <code>{census.suggested_deny.join(", ")}</code>
                    " — lets in " {thousands(census.fixed_by_deny)} " of these documents (those paths are then not searchable in Astra)."
                </p>
            })}
            {match on_use_vector {
                Some(on_use) => view! { <VectorCandidates census=vectors on_use/> }.into_any(),
                None => view! { <VectorCandidates census=vectors/> }.into_any(),
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_links_encode_names_and_ids() {
        let path = CollectionPath { source: "default".into(), database: "analytics".into(), collection: "sensor-readings".into() };
        assert_eq!(path.document_href(r#"{"a":1}"#), "/sources/default/analytics/sensor-readings?id=%7B%22a%22%3A1%7D");
    }
}
