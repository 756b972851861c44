//! Feedback during long commands (`import`, `sync --once`): a progress bar on a terminal,
//! plain lines every few seconds otherwise (a log file gets no escape codes and no flood).

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
    },
}

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
            } => {
                let now_done = done.fetch_add(n, Ordering::Relaxed) + n;
                let mut last = last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if last.elapsed() >= *every {
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

#[cfg(test)]
mod tests {
    use super::*;

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
