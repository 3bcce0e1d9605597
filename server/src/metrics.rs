//! `GET /metrics`: the jobs in the Prometheus text format, for the dashboards and alerts
//! of people who run migrations for a living — per job and collection the documents to copy,
//! written, already present and dead-lettered, the current rate, and the retries and
//! throttling the target caused; per job its status and the time it spent copying and
//! verifying; and how many browsers are watching. Behind the same checks as every other
//! route (same origin or no browser at all, a session off loopback).

use crate::hub::Hub;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use engine::{
    job::JobManager,
    wire::{JobProgress, JobStatus},
};
use std::{fmt::Write, sync::Arc};

/// The content type of the Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn metrics(State(jobs): State<JobManager>, State(hub): State<Arc<Hub>>) -> Response {
    match jobs.jobs() {
        Ok(jobs) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], render(&jobs, hub.watching())).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot read the jobs for /metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, "the job state database could not be read\n").into_response()
        }
    }
}

/// One metric family: its name, type, help and how to read a collection's value.
struct CollectionMetric {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    /// `None`: no sample (a value not known yet).
    value: fn(&engine::wire::CollectionProgress) -> Option<f64>,
}

const COLLECTION_METRICS: &[CollectionMetric] = &[
    CollectionMetric { name: "docshift_documents_matched", kind: "gauge", help: "Source documents the collection's job is to copy; absent until counted.", value: |c| c.counters.matched.map(|m| m as f64) },
    CollectionMetric { name: "docshift_documents_written_total", kind: "counter", help: "Documents written to the target.", value: |c| Some(c.counters.written as f64) },
    CollectionMetric {
        name: "docshift_documents_already_present_total",
        kind: "counter",
        help: "Documents found already in the target (kept, not overwritten).",
        value: |c| Some(c.counters.already_present as f64),
    },
    CollectionMetric {
        name: "docshift_documents_dead_lettered_total",
        kind: "counter",
        help: "Documents set aside with the reason they could not be written.",
        value: |c| Some(c.counters.dead_lettered as f64),
    },
    CollectionMetric { name: "docshift_documents_per_second", kind: "gauge", help: "Documents accounted for per second over the last seconds.", value: |c| Some(c.rate) },
    CollectionMetric {
        name: "docshift_target_retries_total",
        kind: "counter",
        help: "Requests to the target tried again after a transient failure, since this process started the job.",
        value: |c| Some(c.retries as f64),
    },
    CollectionMetric {
        name: "docshift_target_throttled_total",
        kind: "counter",
        help: "Of those retries, the requests the target throttled (HTTP 429).",
        value: |c| Some(c.throttled as f64),
    },
];

/// Every job as Prometheus text.
pub fn render(jobs: &[JobProgress], watching: usize) -> String {
    let mut out = String::new();
    for metric in COLLECTION_METRICS {
        family(&mut out, metric.name, metric.kind, metric.help);
        for job in jobs {
            for collection in &job.collections {
                let labels = [("job", job.id.as_str()), ("collection", collection.source.as_str()), ("target_collection", collection.target.as_str())];
                if let Some(value) = (metric.value)(collection) {
                    sample(&mut out, metric.name, &labels, value);
                }
            }
        }
    }
    family(&mut out, "docshift_job_status", "gauge", "1 for the status each job is in.");
    for job in jobs {
        for status in STATUSES {
            sample(&mut out, "docshift_job_status", &[("job", job.id.as_str()), ("status", status.as_str())], f64::from(u8::from(job.status == status)));
        }
    }
    family(&mut out, "docshift_job_copying_seconds_total", "counter", "Time each job spent copying, up to its last change of status.");
    for job in jobs {
        sample(&mut out, "docshift_job_copying_seconds_total", &[("job", job.id.as_str())], job.running_ms as f64 / 1_000.0);
    }
    family(&mut out, "docshift_job_verifying_seconds_total", "counter", "Time each job spent verifying, up to its last change of status.");
    for job in jobs {
        sample(&mut out, "docshift_job_verifying_seconds_total", &[("job", job.id.as_str())], job.verifying_ms as f64 / 1_000.0);
    }
    family(&mut out, "docshift_browsers_watching", "gauge", "Browsers connected to the live view.");
    sample(&mut out, "docshift_browsers_watching", &[], watching as f64);
    out
}

const STATUSES: [JobStatus; 7] =
    [JobStatus::Pending, JobStatus::Running, JobStatus::Paused, JobStatus::Verifying, JobStatus::Complete, JobStatus::Failed, JobStatus::Cancelled];

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, text)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape(text));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value as the format writes it: `\`, `"` and newlines escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::wire::{CollectionProgress, Counters};

    #[test]
    fn jobs_read_as_prometheus_text() {
        let job = JobProgress {
            id: "abc".into(),
            status: JobStatus::Running,
            database: "shop".into(),
            target: "t".into(),
            collections: vec![CollectionProgress {
                source: "or\"ders".into(),
                target: "orders".into(),
                counters: Counters { matched: Some(10), written: 4, already_present: 1, dead_lettered: 2 },
                rate: 12.5,
                verification: None,
                retries: 3,
                throttled: 1,
                plan: None,
            }],
            message: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            started_at_ms: None,
            finished_at_ms: None,
            running_ms: 1_500,
            verifying_ms: 0,
            throttle: None,
            max_rate: None,
            online: None,
        };
        let mut uncounted = job.clone();
        uncounted.collections[0].counters.matched = None;
        let text = render(&[uncounted], 2);
        assert!(!text.lines().any(|l| l.starts_with("docshift_documents_matched{")), "a total not counted yet has no sample:\n{text}");
        assert!(text.contains("docshift_documents_written_total{"), "{text}");

        let text = render(&[job], 2);
        let labels = r#"{job="abc",collection="or\"ders",target_collection="orders"}"#;
        for line in [
            format!("docshift_documents_matched{labels} 10"),
            "# TYPE docshift_documents_written_total counter".to_owned(),
            format!("docshift_documents_written_total{labels} 4"),
            format!("docshift_documents_dead_lettered_total{labels} 2"),
            format!("docshift_documents_per_second{labels} 12.5"),
            format!("docshift_target_throttled_total{labels} 1"),
            r#"docshift_job_status{job="abc",status="running"} 1"#.to_owned(),
            r#"docshift_job_status{job="abc",status="paused"} 0"#.to_owned(),
            r#"docshift_job_copying_seconds_total{job="abc"} 1.5"#.to_owned(),
            "docshift_browsers_watching 2".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
        }
    }
}
