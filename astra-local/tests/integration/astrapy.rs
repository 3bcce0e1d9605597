//! The official `astrapy` client, unchanged, against astra-local: inserts, paged and sorted
//! reads, counts, the write commands (`replace_one`, `find_one_and_replace`, `update_one`,
//! `update_many`, `delete_one`, `delete_many`), and a vector collection (vector sorts with
//! similarity, exact neighbours). Runs `tests/astrapy_check.py` with the workspace venv's python
//! (`$DOCSHIFT_VENV` or `<workspace>/.venv`).

use std::path::PathBuf;

use crate::common::{start, TOKEN};

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("DOCSHIFT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(".venv"));
    venv.join("bin").join("python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn astrapy_client_works_unchanged() {
    let h = start().await;
    let python = venv_python();
    assert!(python.exists(), "no python at {} (run `make venv` or set DOCSHIFT_VENV)", python.display());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("astrapy_check.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(h.astra.endpoint())
        .arg(TOKEN)
        .arg(astra_local::DEFAULT_PAGE_SIZE.to_string())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "astrapy check failed:\n{stdout}\n{stderr}");
    let sorted = format!("ok a sorted find returns one page ({} documents)", astra_local::DEFAULT_PAGE_SIZE);
    for check in [
        "ok insert_many 1000 documents",
        "ok find follows the pages to 1000 documents",
        sorted.as_str(),
        "ok sorted find with skip",
        "ok $objectId round-trips as ObjectId",
        "ok $uuid round-trips as UUID",
        "ok $date round-trips",
        "ok count_documents is 1000",
        "ok duplicate _id raises CollectionInsertManyException",
        "ok replace_one upserts",
        "ok find_one_and_replace returns the document before",
        "ok update_one upserts",
        "ok update_many follows the pages over 500 documents",
        "ok delete_one deletes the first in sort order",
        "ok delete_many follows moreData over 499 documents",
        "ok create_collection with a vector dimension and metric",
        "ok insert_many with $vector",
        "ok top-1 of a stored vector is its document at similarity 1",
        "ok the neighbours are the exact ones",
        "ok similarities are (1 + cos) / 2",
        "ok find_one with a filter and a vector sort",
        "ok include_sort_vector gives the sort vector",
        "ok delete_one takes a vector sort",
        "ok a vector of another dimension is refused",
        "ALL CHECKS PASSED",
    ] {
        assert!(stdout.contains(check), "missing `{check}` in:\n{stdout}");
    }
}
