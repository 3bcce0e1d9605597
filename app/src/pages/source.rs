//! A source's page: its databases, with size on disk and collection count.

use super::param;
use crate::{
    components::status::{human_bytes, ErrorBox, Loading},
    sources::list_databases,
};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn SourcePage() -> impl IntoView {
    let source = param("source");
    let databases = Resource::new(source, list_databases);

    view! {
        <nav class="crumbs"><A href="/sources">"Sources"</A> " / " {source}</nav>
        <h1>"Databases"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match databases.await {
                    Ok(list) => view! {
                        <table data-testid="databases">
                            <thead><tr><th>"Database"</th><th>"Size on disk"</th><th>"Collections"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|db| view! {
                                    <tr>
                                        <td><A href=format!("/sources/{}/{}", source(), db.name)>{db.name.clone()}</A></td>
                                        <td>{human_bytes(db.size_on_disk)}</td>
                                        <td>{db.collections}</td>
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
