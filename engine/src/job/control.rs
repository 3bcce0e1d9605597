//! What the people watching a job want it to do, as the running job sees it: a [`Control`]
//! signal on a `watch` channel that the manager sets and the readers, writers and the
//! verifier check between batches.

use tokio::sync::watch;

/// What the people watching want the job to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Run,
    Pause,
    Cancel,
}

/// Returns at once while running; waits while paused; says so when cancelled.
pub(crate) async fn wait_while_paused(control: &mut watch::Receiver<Control>) -> Control {
    loop {
        let now = *control.borrow_and_update();
        match now {
            Control::Pause => {
                if control.changed().await.is_err() {
                    return Control::Cancel;
                }
            }
            other => return other,
        }
    }
}
