//! The log-in rules: session lifetimes and the throttle on failed log-ins (pure, no I/O).
//!
//! The web adapter hashes the secrets (session ids, log-in form tokens) before they reach
//! the domain; the store keeps only those hashes.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{AdministratieCode, ResourceId};

/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// A session ends this long after the log-in, however active.
pub const SESSION_ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// `last_seen` is written at most this often (not once per request).
pub const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60);
/// A log-in form token is good for this long.
pub const LOGIN_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A stored session: the hash of its id (never the id), whose it is, and its times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the session id.
    pub id_hash: String,
    /// The administratie of the Beheerder.
    pub adm: AdministratieCode,
    /// The Beheerder.
    pub admin_id: ResourceId,
    /// The log-in.
    pub created_at: DateTime<Utc>,
    /// The last request seen (to the minute, see [`SESSION_TOUCH_EVERY`]).
    pub last_seen: DateTime<Utc>,
}

/// What a request with a stored session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// The session is live; `touch` says whether `last_seen` must be written now.
    Live {
        /// Write `last_seen = now`.
        touch: bool,
    },
    /// Idle for [`SESSION_IDLE`] or older than [`SESSION_ABSOLUTE`]: delete it.
    Expired,
}

fn since(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (now - then).to_std().unwrap_or(Duration::ZERO)
}

fn plus(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl SessionRecord {
    /// The state of the session at `now`.
    #[must_use]
    pub fn state(&self, now: DateTime<Utc>) -> SessionState {
        if since(now, self.created_at) >= SESSION_ABSOLUTE
            || since(now, self.last_seen) >= SESSION_IDLE
        {
            SessionState::Expired
        } else {
            SessionState::Live {
                touch: since(now, self.last_seen) >= SESSION_TOUCH_EVERY,
            }
        }
    }
}

/// The limits of one throttle: after `max_failures` failures within `window` the key is
/// locked for `base_lockout`, doubled on each further lock-out, at most `max_lockout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within the window.
    pub max_failures: u32,
    /// The window.
    pub window: Duration,
    /// The first lock-out.
    pub base_lockout: Duration,
    /// The longest lock-out.
    pub max_lockout: Duration,
}

/// Per account (e-mail address): 5 failures in 15 minutes.
pub const ACCOUNT_POLICY: ThrottlePolicy = ThrottlePolicy {
    max_failures: 5,
    window: Duration::from_secs(15 * 60),
    base_lockout: Duration::from_secs(15 * 60),
    max_lockout: Duration::from_secs(4 * 3600),
};

/// Per client address: 50 failures in 15 minutes.
pub const ADDRESS_POLICY: ThrottlePolicy = ThrottlePolicy {
    max_failures: 50,
    window: Duration::from_secs(15 * 60),
    base_lockout: Duration::from_secs(15 * 60),
    max_lockout: Duration::from_secs(4 * 3600),
};

/// After this long without a failure a key starts afresh (its lock-outs forgotten).
pub const THROTTLE_FORGET: Duration = Duration::from_secs(24 * 3600);

/// The failed log-ins of one key (an account or an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures in the current window.
    pub failures: u32,
    /// The start of the current window.
    pub window_start: DateTime<Utc>,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Lock-outs so far (each doubles the next).
    pub lockouts: u32,
    /// The last failure.
    pub last_failure: DateTime<Utc>,
}

impl Throttle {
    /// How long the key is still locked at `now` (`None`: it may try).
    #[must_use]
    pub fn locked_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| since(until, now).max(Duration::from_secs(1)))
    }

    /// The lock-out after `lockouts` earlier ones: base × 2^lockouts, capped.
    #[must_use]
    pub fn lockout(policy: &ThrottlePolicy, lockouts: u32) -> Duration {
        let factor = 1u32.checked_shl(lockouts.min(31)).unwrap_or(u32::MAX);
        policy
            .base_lockout
            .checked_mul(factor)
            .unwrap_or(policy.max_lockout)
            .min(policy.max_lockout)
    }

    /// The state after a failure at `now` (`before` the stored state, if any).
    #[must_use]
    pub fn after_failure(
        before: Option<&Throttle>,
        now: DateTime<Utc>,
        policy: &ThrottlePolicy,
    ) -> Throttle {
        let mut t = match before {
            Some(b) if since(now, b.last_failure) < THROTTLE_FORGET => *b,
            _ => Throttle {
                failures: 0,
                window_start: now,
                locked_until: None,
                lockouts: 0,
                last_failure: now,
            },
        };
        if since(now, t.window_start) >= policy.window {
            t.failures = 0;
            t.window_start = now;
        }
        t.failures = t.failures.saturating_add(1);
        t.last_failure = now;
        if t.failures >= policy.max_failures {
            t.locked_until = Some(plus(now, Self::lockout(policy, t.lockouts)));
            t.lockouts = t.lockouts.saturating_add(1);
            t.failures = 0;
            t.window_start = now;
        }
        t
    }
}

/// An attempt under a throttle key, counted as a failure *before* the password is checked
/// (so that parallel attempts cannot all slip in before the first failure is recorded; a
/// success then forgives it): `Err(wait)` when the key is locked (nothing counted), else
/// the state to store.
///
/// # Errors
/// The time the key is still locked.
pub fn attempt(
    before: Option<&Throttle>,
    now: DateTime<Utc>,
    policy: &ThrottlePolicy,
) -> Result<Throttle, Duration> {
    if let Some(wait) = before.and_then(|b| b.locked_for(now)) {
        return Err(wait);
    }
    Ok(Throttle::after_failure(before, now, policy))
}

/// The throttle key of an account (the e-mail is unique across the service).
#[must_use]
pub fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

/// The throttle key of a client address.
#[must_use]
pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap()
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn session(created: DateTime<Utc>, last: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            id_hash: "h".into(),
            adm: AdministratieCode::parse("kantoor").unwrap(),
            admin_id: ResourceId::parse("a1").unwrap(),
            created_at: created,
            last_seen: last,
        }
    }

    #[test]
    fn a_session_expires_after_8_idle_hours() {
        let s = session(t0(), t0());
        assert_eq!(s.state(t0()), SessionState::Live { touch: false });
        assert_eq!(
            s.state(plus(t0(), secs(59))),
            SessionState::Live { touch: false }
        );
        assert_eq!(
            s.state(plus(t0(), secs(60))),
            SessionState::Live { touch: true }
        );
        assert_eq!(
            s.state(plus(t0(), secs(8 * 3600 - 1))),
            SessionState::Live { touch: true }
        );
        assert_eq!(s.state(plus(t0(), secs(8 * 3600))), SessionState::Expired);
    }

    #[test]
    fn a_session_expires_12_hours_after_log_in_however_active() {
        let s = session(t0(), plus(t0(), secs(12 * 3600 - 10)));
        assert_eq!(
            s.state(plus(t0(), secs(12 * 3600 - 1))),
            SessionState::Live { touch: false }
        );
        assert_eq!(s.state(plus(t0(), secs(12 * 3600))), SessionState::Expired);
    }

    #[test]
    fn five_failures_lock_an_account_and_lock_outs_double_up_to_the_cap() {
        let p = ACCOUNT_POLICY;
        let mut t = None;
        let mut now = t0();
        for i in 1..=4 {
            let next = Throttle::after_failure(t.as_ref(), now, &p);
            assert_eq!(next.failures, i);
            assert_eq!(next.locked_for(now), None);
            t = Some(next);
        }
        let locked = Throttle::after_failure(t.as_ref(), now, &p);
        assert_eq!(locked.locked_for(now), Some(secs(15 * 60)));
        assert_eq!(locked.locked_for(plus(now, secs(15 * 60))), None);
        // Five more after the lock-out: 30 minutes, then 60, 120, 240, 240.
        let mut t = Some(locked);
        for expected in [30, 60, 120, 240, 240] {
            now = plus(t.unwrap().locked_until.unwrap(), secs(1));
            for _ in 0..5 {
                t = Some(Throttle::after_failure(t.as_ref(), now, &p));
            }
            assert_eq!(t.unwrap().locked_for(now), Some(secs(expected * 60)));
        }
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let p = ACCOUNT_POLICY;
        let mut t = None;
        for i in 0..4u64 {
            t = Some(Throttle::after_failure(
                t.as_ref(),
                plus(t0(), secs(i * 60)),
                &p,
            ));
        }
        let later = Throttle::after_failure(t.as_ref(), plus(t0(), secs(16 * 60)), &p);
        assert_eq!(later.failures, 1);
        assert_eq!(later.locked_until, None);
        // A day without failures forgets the lock-outs.
        let mut locked = Throttle::after_failure(t.as_ref(), t0(), &p);
        locked.lockouts = 5;
        let fresh = Throttle::after_failure(Some(&locked), plus(t0(), secs(25 * 3600)), &p);
        assert_eq!(fresh.lockouts, 0);
        assert_eq!(fresh.failures, 1);
    }

    #[test]
    fn parallel_attempts_get_at_most_five_tries_before_the_lock() {
        // 20 attempts at the same instant: each is counted before its password is checked.
        let mut t: Option<Throttle> = None;
        let mut tried = 0;
        for _ in 0..20 {
            match attempt(t.as_ref(), t0(), &ACCOUNT_POLICY) {
                Ok(next) => {
                    tried += 1;
                    t = Some(next);
                }
                Err(wait) => assert_eq!(wait, secs(15 * 60)),
            }
        }
        assert_eq!(tried, 5);
    }

    #[test]
    fn keys_name_their_kind() {
        assert_eq!(account_key(" Anna@Example.nl "), "account:anna@example.nl");
        assert_eq!(address_key("10.0.0.1"), "address:10.0.0.1");
    }

    proptest! {
        #[test]
        fn a_lock_out_never_exceeds_the_cap_and_never_shrinks(lockouts in 0u32..200) {
            for p in [ACCOUNT_POLICY, ADDRESS_POLICY] {
                let d = Throttle::lockout(&p, lockouts);
                prop_assert!(d <= p.max_lockout);
                prop_assert!(d >= p.base_lockout.min(p.max_lockout));
                prop_assert!(Throttle::lockout(&p, lockouts + 1) >= d);
            }
        }

        #[test]
        fn never_more_than_max_failures_before_a_lock(gaps in proptest::collection::vec(0u64..120, 1..60)) {
            let p = ACCOUNT_POLICY;
            let mut t: Option<Throttle> = None;
            let mut now = t0();
            for gap in gaps {
                now = plus(now, secs(gap));
                if let Some(cur) = t && cur.locked_for(now).is_some() {
                    continue;
                }
                let next = Throttle::after_failure(t.as_ref(), now, &p);
                let unlocked_in_window = if next.locked_for(now).is_some() { 0 } else { next.failures };
                prop_assert!(unlocked_in_window < p.max_failures);
                t = Some(next);
            }
        }
    }
}
