//! Following a job from the terminal: one progress bar per collection (documents accounted
//! for, docs/s, dead letters, then the verification) fed by the engine's progress events, and
//! for an online job its sync (phase, lag, changes waiting and applied) on the header line.
//! On a terminal it draws bars; when stderr is not a terminal it prints a line every few
//! seconds instead; with `--json` it stays quiet. Ctrl-C or SIGTERM pauses the job; so can
//! someone else (`docshift serve` on the same state directory), and then the command ends.

use super::CliError;
use engine::{
    job::JobManager,
    wire::{CollectionProgress, JobProgress, JobStatus, ServerEvent},
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};
use tokio::sync::broadcast::{self, error::RecvError};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Progress bars on stderr (a terminal).
    Bars,
    /// A line on stderr every few seconds and at each change of status (logs, CI).
    Lines,
    /// Nothing (`--json`).
    Quiet,
}

impl Display {
    /// Bars on a terminal, lines elsewhere, nothing when the output is JSON.
    pub fn choose(json: bool) -> Self {
        if json {
            Display::Quiet
        } else if std::io::stderr().is_terminal() {
            Display::Bars
        } else {
            Display::Lines
        }
    }
}

/// How often the lines display prints.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// Shows the job until it has ended or paused, and returns its progress then.
pub async fn follow(jobs: &JobManager, id: &str, mut events: broadcast::Receiver<ServerEvent>, display: Display) -> Result<JobProgress, CliError> {
    let mut view = View::new(display, &jobs.progress(id)?);
    let settled = jobs.settled(id);
    tokio::pin!(settled);
    let interrupt = interrupted();
    tokio::pin!(interrupt);
    // Events stop while a collection is verified; the tick keeps the display moving.
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            result = &mut settled => {
                let progress = result?;
                view.update(&progress);
                view.finish();
                return Ok(progress);
            }
            event = events.recv() => match event {
                Ok(ServerEvent::Job(progress)) if progress.id == id => view.update(&progress),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => events = jobs.subscribe(),
            },
            _ = tick.tick() => {
                if let Ok(progress) = jobs.progress(id) {
                    view.update(&progress);
                    // Paused from elsewhere (the web app, through the state directory): this
                    // process stops, and whoever resumes the job runs it.
                    if progress.status == JobStatus::Paused {
                        view.finish();
                        return Ok(progress);
                    }
                }
            }
            () = &mut interrupt => {
                view.finish();
                // Refused only when the job has just ended; `resume` takes over a stopped one.
                let paused = jobs.pause(id, "an interrupt of docshift").is_ok();
                return Err(CliError::Interrupted { id: id.to_owned(), paused });
            }
        }
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What is on screen.
struct View {
    display: Display,
    id: String,
    status: JobStatus,
    header: ProgressBar,
    bars: Vec<ProgressBar>,
    /// The bars' style with a total, and without one (not yet counted).
    styles: [ProgressStyle; 2],
    last_line: Instant,
}

impl View {
    fn new(display: Display, progress: &JobProgress) -> Self {
        let multi = MultiProgress::with_draw_target(match display {
            Display::Bars => ProgressDrawTarget::stderr(),
            Display::Lines | Display::Quiet => ProgressDrawTarget::hidden(),
        });
        let header = multi.add(ProgressBar::new_spinner());
        header.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        let bar_style = ProgressStyle::with_template("  {prefix} [{bar:30}] {pos}/{len} ({percent}%) {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let counting_style = ProgressStyle::with_template("  {prefix} [{spinner:^30}] {pos} so far, not yet counted {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let width = progress.collections.iter().map(|c| label(c).chars().count()).max().unwrap_or(0);
        let bars = progress
            .collections
            .iter()
            .map(|c| {
                let bar = multi.add(ProgressBar::no_length());
                bar.set_prefix(format!("{:<width$}", label(c)));
                bar
            })
            .collect();
        if display == Display::Bars {
            header.enable_steady_tick(Duration::from_millis(120));
        }
        let styles = [bar_style, counting_style];
        let mut view = Self { display, id: progress.id.clone(), status: progress.status, header, bars, styles, last_line: Instant::now() };
        view.update(progress);
        if display == Display::Lines {
            eprintln!("docshift: job {} is {}", view.id, view.status.as_str());
        }
        view
    }

    fn update(&mut self, progress: &JobProgress) {
        let status_changed = progress.status != self.status;
        self.status = progress.status;
        let totals = progress.totals();
        let rate: f64 = progress.collections.iter().map(|c| c.rate).sum();
        let throttling = throttling(progress);
        let sync = progress.online.as_ref().map(|o| format!(" | {}", super::online::line(o))).unwrap_or_default();
        self.header.set_message(format!(
            "job {}: {} — {}, {:.0} docs/s{sync}{}",
            self.id,
            progress.status.as_str(),
            accounted_for(totals.accounted(), totals.matched),
            rate,
            throttling.as_deref().map(|t| format!("; {t}")).unwrap_or_default()
        ));
        for (bar, collection) in self.bars.iter().zip(&progress.collections) {
            match collection.counters.matched {
                Some(matched) => {
                    bar.set_style(self.styles[0].clone());
                    bar.set_length(matched);
                }
                None => {
                    bar.set_style(self.styles[1].clone());
                    bar.unset_length();
                }
            }
            bar.set_position(collection.counters.accounted());
            bar.set_message(detail(collection));
        }
        if self.display == Display::Lines && (status_changed || self.last_line.elapsed() >= LINE_EVERY) {
            self.last_line = Instant::now();
            if status_changed {
                eprintln!("docshift: job {} is {}", self.id, progress.status.as_str());
            }
            if let Some(line) = &throttling {
                eprintln!("docshift:   {line}");
            }
            for collection in &progress.collections {
                let c = collection.counters;
                let detail = detail(collection);
                let sep = if detail.is_empty() { "" } else { ", " };
                eprintln!("docshift:   {}: {}{sep}{detail}", label(collection), accounted_for(c.accounted(), c.matched));
            }
            if let Some(online) = &progress.online {
                eprintln!("docshift:   sync: {}", super::online::line(online));
            }
        }
    }

    fn finish(&self) {
        for bar in &self.bars {
            bar.abandon();
        }
        self.header.finish_and_clear();
        if self.display == Display::Bars {
            // indicatif leaves the cursor after the last bar: what follows starts below it.
            eprintln!();
        }
    }
}

/// "Astra is throttling: N req/s accepted, M in flight" while the target answers 429s.
fn throttling(progress: &JobProgress) -> Option<String> {
    progress.throttle.as_ref().filter(|t| t.throttling && progress.status == JobStatus::Running).map(|t| t.line())
}

/// "5 of 20 documents accounted for", or "so far" where the total is not counted yet.
fn accounted_for(accounted: u64, matched: Option<u64>) -> String {
    match matched {
        Some(matched) => format!("{accounted} of {matched} documents accounted for"),
        None => format!("{accounted} documents accounted for so far (counted as they are read)"),
    }
}

/// `orders`, or `sensor-readings → sensor_readings` when the Astra name differs.
pub fn label(collection: &CollectionProgress) -> String {
    if collection.source == collection.target {
        collection.source.clone()
    } else {
        format!("{} → {}", collection.source, collection.target)
    }
}

/// The rate, the dead letters and the verification of one collection.
fn detail(collection: &CollectionProgress) -> String {
    let mut parts = Vec::new();
    match &collection.verification {
        Some(v) => parts.push(format!("verified {} of {}", v.matching, v.checked)),
        None if collection.rate > 0.0 => parts.push(format!("{:.0} docs/s", collection.rate)),
        None => {}
    }
    if collection.counters.dead_lettered > 0 {
        parts.push(format!("{} dead-lettered", collection.counters.dead_lettered));
    }
    parts.join(", ")
}
