//! The compatibility census as a table: what Astra would refuse, why, and an example.

use crate::components::status::thousands;
use engine::wire::Census;
use leptos::prelude::*;

#[component]
pub fn CensusReport(census: Census) -> impl IntoView {
    let refused = census.scanned - census.convertible;
    let partial = (census.scanned < census.total).then(|| format!(" (the first {} of about {})", thousands(census.scanned), thousands(census.total)));
    view! {
        <div class="census" data-testid="census">
            <p>
                <strong data-testid="census-convertible">{thousands(census.convertible)}</strong> " of " {thousands(census.scanned)}
                " documents" {partial} " convert as they are; "
                <strong data-testid="census-refused">{thousands(refused)}</strong> " would be refused or need a policy."
            </p>
            {(!census.reasons.is_empty()).then(|| view! {
                <table data-testid="census-reasons">
                    <thead><tr><th>"Reason"</th><th>"Code"</th><th>"Documents"</th><th>"Example _id"</th><th>"Where"</th></tr></thead>
                    <tbody>
                        {census.reasons.iter().map(|r| view! {
                            <tr>
                                <td>{r.reason.clone()}</td>
                                <td><code>{r.code.clone()}</code></td>
                                <td class="num">{thousands(r.documents)}</td>
                                <td><code>{r.example_id.clone()}</code></td>
                                <td><code>{r.example_path.clone()}</code></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!census.suggested_deny.is_empty()).then(|| view! {
                <p data-testid="suggested-deny">
                    "Suggested " <code>"indexing.deny"</code> ": " <code>{census.suggested_deny.join(", ")}</code>
                    " — lets in " {thousands(census.fixed_by_deny)} " of these documents (those paths are then not searchable in Astra)."
                </p>
            })}
        </div>
    }
}
