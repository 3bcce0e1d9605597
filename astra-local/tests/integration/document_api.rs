//! The Document API v2: PUT/GET by id, batch writes with `id-path`, token, depth limit.

use serde_json::{json, Value};

use crate::common::{start, TOKEN};

#[tokio::test]
async fn documents_are_put_got_and_batched() {
    let h = start().await;
    let base = format!("{}/api/rest/v2/namespaces/default_keyspace/collections/people", h.astra.endpoint());

    let response = h.http.put(format!("{base}/p1")).body(r#"{"a":1}"#).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);

    let doc = r#"{"name":"Ada","n":12345678901234567890123456789012.5}"#;
    let response = h
        .http
        .put(format!("{base}/p1"))
        .header("X-Cassandra-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"documentId": "p1"}));

    let response = h.http.get(format!("{base}/p1")).header("X-Cassandra-Token", TOKEN).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(text, format!(r#"{{"documentId":"p1","data":{doc}}}"#));

    let response = h.http.get(format!("{base}/nope")).header("X-Cassandra-Token", TOKEN).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);

    let batch = json!([{"id": "b1", "v": 1}, {"id": "b2", "v": 2}]);
    let response = h
        .http
        .post(format!("{base}/batch?id-path=id"))
        .header("X-Cassandra-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"documentIds": ["b1", "b2"]}));
    let response = h.http.get(format!("{base}/b2")).header("X-Cassandra-Token", TOKEN).send().await.unwrap();
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"documentId": "b2", "data": {"id": "b2", "v": 2}}));

    let mut deep = json!(1);
    for _ in 0..65 {
        deep = json!({"d": deep});
    }
    let response = h
        .http
        .put(format!("{base}/deep"))
        .header("X-Cassandra-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(deep.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let mut ok = json!(1);
    for _ in 0..64 {
        ok = json!({"d": ok});
    }
    let response = h
        .http
        .put(format!("{base}/ok"))
        .header("X-Cassandra-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(ok.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
