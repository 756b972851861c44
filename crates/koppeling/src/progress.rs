//! Feedback during long commands (`import`, `sync --once`): a progress bar on a terminal,
//! plain lines otherwise (a log file gets no escape codes and no flood): one every 5 s, and
//! with a known total of at least 100 units also one at each further 10 %.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the plain-line mode writes a line.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Progress of one long command, written to standard error.
pub struct Progress {
    mode: Mode,
}

enum Mode {
    Bar(ProgressBar),
    Lines {
        what: String,
        total: Option<u64>,
        done: AtomicU64,
        last: Mutex<Instant>,
        every: Duration,
        /// The last 10 % step a line was written for.
        step: AtomicU64,
    },
}

/// A known total of at least this many units also gets a line at each further 10 %.
const STEPS_FROM: u64 = 100;

impl Progress {
    /// Progress over `total` units of `what` (e.g. "invoices"), if known.
    #[must_use]
    pub fn new(what: &str, total: Option<u64>) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(total) => ProgressBar::with_draw_target(
                    Some(total),
                    ProgressDrawTarget::stderr_with_hz(4),
                ),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4)),
            };
            let template = if total.is_some() {
                format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)")
            } else {
                format!("{{spinner}} {{pos}} {what}")
            };
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            Self {
                mode: Mode::Bar(bar),
            }
        } else {
            Self::lines(what, total, LINE_EVERY)
        }
    }

    /// The plain-line mode with its interval (tests use a short one).
    #[must_use]
    pub fn lines(what: &str, total: Option<u64>, every: Duration) -> Self {
        Self {
            mode: Mode::Lines {
                what: what.to_owned(),
                total,
                done: AtomicU64::new(0),
                last: Mutex::new(Instant::now()),
                every,
                step: AtomicU64::new(0),
            },
        }
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        match &self.mode {
            Mode::Bar(bar) => bar.inc(n),
            Mode::Lines {
                what,
                total,
                done,
                last,
                every,
                step,
            } => {
                let now_done = done.fetch_add(n, Ordering::Relaxed) + n;
                let mut last = last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let new_step = match total {
                    Some(total) if *total >= STEPS_FROM => {
                        let now = now_done.min(*total) * 10 / total;
                        now > step.fetch_max(now, Ordering::Relaxed)
                    }
                    _ => false,
                };
                if new_step || last.elapsed() >= *every {
                    *last = Instant::now();
                    eprintln!("{}", line(what, now_done, *total));
                }
            }
        }
    }

    /// Clears the bar (the command prints its own summary).
    pub fn finish(&self) {
        if let Mode::Bar(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

fn line(what: &str, done: u64, total: Option<u64>) -> String {
    match total {
        Some(total) if total > 0 => {
            format!("{done}/{total} {what} ({}%)", done.min(total) * 100 / total)
        }
        _ => format!("{done} {what}"),
    }
}

/// A reader that reports every byte consumed to a [`Progress`] (the import's file).
pub struct Counted<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<'a, R> Counted<'a, R> {
    /// Wraps `inner`.
    pub fn new(inner: R, progress: &'a Progress) -> Self {
        Self { inner, progress }
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counted<'_, R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len().saturating_sub(before);
        self.progress.inc(read as u64);
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_total_gets_a_line_at_each_tenth() {
        // An interval no test reaches: only the 10 % steps write.
        let progress = Progress::lines("bytes", Some(1000), Duration::from_secs(3600));
        let Mode::Lines { step, .. } = &progress.mode else {
            panic!("not a terminal under test")
        };
        progress.inc(50);
        assert_eq!(step.load(Ordering::Relaxed), 0, "under 10 %: no line yet");
        progress.inc(60);
        assert_eq!(step.load(Ordering::Relaxed), 1);
        progress.inc(890);
        assert_eq!(step.load(Ordering::Relaxed), 10);
        // A small total (3 invoices) writes only on the interval.
        let small = Progress::lines("invoices", Some(3), Duration::from_secs(3600));
        small.inc(3);
        let Mode::Lines { step, .. } = &small.mode else {
            panic!("not a terminal under test")
        };
        assert_eq!(step.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn plain_lines_name_the_count_and_share() {
        assert_eq!(line("invoices", 250, Some(1000)), "250/1000 invoices (25%)");
        assert_eq!(line("lines", 7, None), "7 lines");
        assert_eq!(line("invoices", 3, Some(0)), "3 invoices");
        let progress = Progress::lines("invoices", Some(10), Duration::ZERO);
        progress.inc(4);
        progress.inc(6);
        progress.finish();
        let Mode::Lines { done, .. } = &progress.mode else {
            panic!("not a terminal under test")
        };
        assert_eq!(done.load(Ordering::Relaxed), 10);
    }
}
