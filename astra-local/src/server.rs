//! The connection layer: a hand-written accept loop over hyper instead of `axum::serve`, because
//! a "dropped connection" fault must close the TCP connection without writing any response,
//! which only the connection layer can do (a service error makes hyper close the connection).

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

use crate::faults::DropConnection;

/// The error that makes hyper drop a connection on purpose.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DroppedByFault;

pub(crate) struct ServerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Stops accepting and aborts the open connections.
    pub(crate) async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves `router` on `listener` in a background task.
pub(crate) fn serve(listener: TcpListener, router: Router) -> ServerHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let stream = match accepted {
                        Ok((stream, _)) => stream,
                        Err(error) => {
                            tracing::warn!(%error, "accept failed");
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                _ = stopped.changed() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        connections.shutdown().await;
    });
    ServerHandle { stop, task }
}

async fn serve_connection(stream: tokio::net::TcpStream, router: Router) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let router = router.clone();
        async move {
            let response = match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<DropConnection>().is_some() {
                return Err(DroppedByFault);
            }
            Ok::<_, DroppedByFault>(response)
        }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder.serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(%error, "connection ended");
    }
}
