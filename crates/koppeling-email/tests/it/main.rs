//! Integration tests: mails go through a real SMTP server (aiosmtpd), and a dead server fails fast.

mod delivery;
mod dutch;
mod failures;
mod sink;
