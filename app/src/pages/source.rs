//! A source's page, titled with its name: its databases of data (MongoDB's own `admin`,
//! `config` and `local` are left out), with size on disk and collection count.

use super::param;
use crate::{
    components::status::{human_bytes, Empty, ErrorBox, Loading},
    sources::{list_databases, source_name},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn SourcePage() -> impl IntoView {
    let source = param("source");
    let databases = Resource::new(source, list_databases);
    let name = Resource::new(source, source_name);

    view! {
        <nav class="crumbs"><A href="/sources">"Sources"</A> " / " {source}</nav>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let name = name.await.unwrap_or_else(|_| source());
                view! {
                    <Title text=format!("{name} · Sources · docshift")/>
                    <h1>{name}</h1>
                }
            })}
        </Suspense>
        <p class="hint">"Its databases (MongoDB's own admin, config and local hold no data to migrate and are not listed)."</p>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match databases.await {
                    Ok(list) if list.is_empty() => view! { <Empty text="This server has no database of data yet.".to_owned()/> }.into_any(),
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
