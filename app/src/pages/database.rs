//! A database's page: its collections with estimated document counts.

use super::param;
use crate::{
    components::status::{thousands, Empty, ErrorBox, Loading},
    sources::list_collections,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn DatabasePage() -> impl IntoView {
    let source = param("source");
    let database = param("database");
    let collections = Resource::new(move || (source(), database()), |(s, d)| list_collections(s, d));

    view! {
        <Title text=move || format!("{} · docshift", database())/>
        <nav class="crumbs">
            <A href="/sources">"Sources"</A> " / "
            <A href=move || format!("/sources/{}", source())>{source}</A> " / " {database}
        </nav>
        <h1>{database}</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match collections.await {
                    Ok(list) if list.is_empty() => view! { <Empty text="This database has no collections."/> }.into_any(),
                    Ok(list) => view! {
                        <table data-testid="collections">
                            <thead><tr><th>"Collection"</th><th>"Documents (estimated)"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|c| view! {
                                    <tr>
                                        <td><A href=format!("/sources/{}/{}/{}", source(), database(), c.name)>{c.name.clone()}</A></td>
                                        <td class="num">{thousands(c.estimated_count)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
