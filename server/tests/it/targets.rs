//! Changing and removing a target through the server functions: a change is checked before
//! it is kept (an empty token keeps the stored one), a failed check changes nothing and says
//! what to check in a plain sentence, and a removed target is no longer listed or usable.

use crate::common::{Docshift, ASTRA_TOKEN};
use astra_local::testing::TestAstra;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn edit(docshift: &Docshift, edit: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new().post(format!("{}/api/edit_target", docshift.base)).json(&json!({ "edit": edit })).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn targets(docshift: &Docshift) -> Vec<Value> {
    let (status, body) = docshift.call("list_targets", &[]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap().as_array().unwrap().clone()
}

#[tokio::test]
async fn a_target_is_changed_only_when_the_change_works_and_can_be_removed() {
    let astra = TestAstra::start(ASTRA_TOKEN).await;
    let docshift = Docshift::serve("mongodb://127.0.0.1:1", &[]);
    let added = [("name", "staging"), ("kind", "data-api"), ("endpoint", &astra.endpoint()), ("keyspace", "default_keyspace"), ("token", ASTRA_TOKEN)];
    let (status, body) = docshift.call("add_target", &added).await;
    assert_eq!(status, 200, "{body}");

    // A new name, the same token (left empty).
    let (status, changed) = edit(&docshift, json!({ "id": "staging", "name": "Staging EU", "endpoint": astra.endpoint(), "keyspace": "default_keyspace", "token": "" })).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Staging EU");
    let (status, body) = docshift.call("test_target", &[("id", "staging")]).await;
    assert_eq!(status, 200, "the kept token still works: {body}");

    // An endpoint that answers nothing: a plain sentence, and nothing changes.
    let (status, refused) = edit(&docshift, json!({ "id": "staging", "name": "x", "endpoint": "http://127.0.0.1:9", "keyspace": "default_keyspace", "token": "" })).await;
    assert!(!status.is_success());
    let sentence = refused["Explained"]["message"].as_str().unwrap_or_else(|| panic!("{refused}"));
    assert!(sentence.starts_with("Can't reach http://127.0.0.1:9 — check the API endpoint"), "{sentence}");
    let listed = targets(&docshift).await;
    assert_eq!(listed[0]["name"], "Staging EU");
    assert_eq!(listed[0]["endpoint"], astra.endpoint());

    // The sandbox is not there to change; the added target goes.
    let (status, body) = docshift.call("remove_target", &[("id", "staging")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(targets(&docshift).await.is_empty());
    let (status, _) = docshift.call("test_target", &[("id", "staging")]).await;
    assert!(status != 200, "a removed target can't be used");
    let (status, _) = docshift.call("remove_target", &[("id", "staging")]).await;
    assert!(status != 200);
}
